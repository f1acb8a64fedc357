/**
 * RFC 6570 URI templates as MCP resource templates use them: `{var}` matches one path segment,
 * `{+var}` and `{#var}` match the rest (reserved expansion). Enough to route reads and name the
 * variables completion can fill in.
 */
export class UriTemplate {
  readonly variables: readonly string[]
  readonly #pattern: RegExp

  constructor(readonly template: string) {
    const variables: string[] = []
    let source = '^'
    let last = 0
    for (const match of template.matchAll(/\{([+#]?)([A-Za-z0-9_.]+)\}/g)) {
      source += escapeRegExp(template.slice(last, match.index))
      const operator = match[1]
      variables.push(match[2] as string)
      source += operator === '' ? '([^/?#]*)' : '(.*)'
      last = match.index + match[0].length
    }
    source += `${escapeRegExp(template.slice(last))}$`
    this.variables = variables
    this.#pattern = new RegExp(source)
  }

  /** The variables of `uri` when it matches the template; undefined otherwise. */
  match(uri: string): Map<string, string> | undefined {
    const found = this.#pattern.exec(uri)
    if (!found) return undefined
    const values = new Map<string, string>()
    this.variables.forEach((name, i) => {
      const raw = found[i + 1] ?? ''
      values.set(name, safeDecode(raw))
    })
    return values
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
