/**
 * Checks an accepted form-mode elicitation answer against the schema that was asked for (the
 * spec: servers SHOULD validate). Form schemas are flat: each property is a string, number,
 * integer, boolean or an array of strings, optionally with an `enum` (or `oneOf`/`anyOf` consts).
 * @returns what is wrong, or undefined when the answer fits.
 */
export function checkElicitedContent(
  schema: { properties?: Record<string, unknown>; required?: readonly string[] },
  content: Record<string, unknown> | undefined,
): string | undefined {
  const values = content ?? {}
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(values, name)) return `"${name}" is required`
  }
  const properties = schema.properties ?? {}
  for (const [name, value] of Object.entries(values)) {
    if (!Object.hasOwn(properties, name)) return `"${name}" was not asked for`
    const problem = checkValue(properties[name] as PropertySchema, value)
    if (problem) return `"${name}" ${problem}`
  }
  return undefined
}

interface PropertySchema {
  type?: string
  enum?: unknown[]
  oneOf?: Array<{ const?: unknown }>
  items?: PropertySchema & { anyOf?: Array<{ const?: unknown }> }
}

function checkValue(schema: PropertySchema | undefined, value: unknown): string | undefined {
  if (!schema || typeof schema !== 'object') return undefined
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string'
      return allowed(schema, value) ? undefined : 'is not one of the allowed values'
    case 'number':
      return typeof value === 'number' ? undefined : 'must be a number'
    case 'integer':
      return Number.isInteger(value) ? undefined : 'must be an integer'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean'
    case 'array': {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        return 'must be an array of strings'
      }
      const items = schema.items
      const consts = items?.enum ?? items?.anyOf?.map((o) => o.const)
      return !consts || value.every((v) => consts.includes(v))
        ? undefined
        : 'has a value that is not allowed'
    }
    default:
      return undefined
  }
}

function allowed(schema: PropertySchema, value: string): boolean {
  const consts = schema.enum ?? schema.oneOf?.map((o) => o.const)
  return !consts || consts.includes(value)
}
