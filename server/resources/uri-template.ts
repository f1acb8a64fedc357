/**
 * RFC 6570 URI templates as MCP resource templates use them: `{var}` matches within one path
 * segment (no `/`, `?` or `#`), `{+var}` and `{#var}` match the rest (reserved expansion). Enough
 * to route reads and name the variables completion can fill in.
 *
 * Matching is one linear scan, never a backtracking RegExp (a `(.*)` per variable made one long
 * URI stall the event loop): the literals anchor it. Variables left of the template's one greedy
 * variable take the first place their next literal occurs, variables right of it the last place
 * their previous literal occurs, and the greedy one takes what lies between. Without a greedy
 * variable the last variable plays that part. So a template has at most one `{+var}`/`{#var}`,
 * and a literal between any two variables; others are refused when the template is built.
 */
export class UriTemplate {
  readonly variables: readonly string[]
  /** Literal text around the variables: `literals[i]` precedes `variables[i]`; one more follows the last. */
  readonly #literals: readonly string[]
  readonly #greedy: readonly boolean[]
  /** The variable that takes the middle of the URI. */
  readonly #middle: number

  /** @throws UriTemplateError for two greedy variables or two variables with no literal between. */
  constructor(readonly template: string) {
    const variables: string[] = []
    const literals: string[] = []
    const greedy: boolean[] = []
    let last = 0
    for (const match of template.matchAll(/\{([+#]?)([A-Za-z0-9_.]+)\}/g)) {
      const literal = template.slice(last, match.index)
      if (variables.length > 0 && literal === '') {
        throw new UriTemplateError(
          `variables {${variables.at(-1)}} and {${match[2]}} need a literal between them`,
        )
      }
      literals.push(literal)
      variables.push(match[2] as string)
      greedy.push(match[1] !== '')
      last = match.index + match[0].length
    }
    literals.push(template.slice(last))
    const greedyCount = greedy.filter(Boolean).length
    if (greedyCount > 1) {
      throw new UriTemplateError(
        `at most one {+var} or {#var} per template; this one has ${greedyCount}`,
      )
    }
    this.variables = variables
    this.#literals = literals
    this.#greedy = greedy
    this.#middle = greedyCount === 1 ? greedy.indexOf(true) : variables.length - 1
  }

  /** The variables of `uri` when it matches the template; undefined otherwise. Linear in `uri`. */
  match(uri: string): Map<string, string> | undefined {
    const literals = this.#literals
    const n = this.variables.length
    const head = literals[0] as string
    const tail = literals[n] as string
    if (n === 0) return uri === head ? new Map() : undefined
    if (uri.length < head.length + tail.length || !uri.startsWith(head) || !uri.endsWith(tail)) {
      return undefined
    }
    const raw: string[] = new Array(n)
    // Left of the middle: each variable ends where its next literal first occurs.
    let start = head.length
    for (let i = 0; i < this.#middle; i++) {
      const next = literals[i + 1] as string
      const at = uri.indexOf(next, start)
      if (at < 0) return undefined
      raw[i] = uri.slice(start, at)
      start = at + next.length
    }
    // Right of the middle: each variable starts where its previous literal last occurs.
    let end = uri.length - tail.length
    for (let i = n - 1; i > this.#middle; i--) {
      const previous = literals[i] as string
      const at = uri.lastIndexOf(previous, end - previous.length)
      if (at < start || at + previous.length > end) return undefined
      raw[i] = uri.slice(at + previous.length, end)
      end = at
    }
    if (end < start) return undefined
    raw[this.#middle] = uri.slice(start, end)
    const values = new Map<string, string>()
    for (let i = 0; i < n; i++) {
      const value = raw[i] as string
      if (!this.#greedy[i] && /[/?#]/.test(value)) return undefined
      values.set(this.variables[i] as string, safeDecode(value))
    }
    return values
  }
}

/** A template sluice cannot match without backtracking. */
export class UriTemplateError extends Error {
  override readonly name = 'UriTemplateError'
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
