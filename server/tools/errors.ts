/** The call named a tool that is not registered. */
export class UnknownToolError extends Error {
  override readonly name = 'UnknownToolError'
  constructor(readonly tool: string) {
    super(`Invalid params: unknown tool '${tool}'`)
  }
}

/** The arguments do not match the tool's input schema. */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError'
  constructor(
    readonly tool: string,
    readonly problems: string[],
  ) {
    super(`Invalid params: arguments for tool '${tool}' are invalid: ${problems.join('; ')}`)
  }
}

/** A tool name that is already taken or not a valid MCP tool name. */
export class ToolRegistrationError extends Error {
  override readonly name = 'ToolRegistrationError'
}
