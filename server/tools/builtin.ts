import { Type } from '@sinclair/typebox'
import type { ToolRegistry } from './registry.ts'

/** The longest `sleep` a client may ask for, in seconds. */
export const MAX_SLEEP_SECONDS = 60

/** Registers sluice's built-in tools: echo, add and sleep. */
export function registerBuiltinTools(tools: ToolRegistry): ToolRegistry {
  return tools
    .tool(
      'echo',
      {
        description: 'Returns the message it is given.',
        input: Type.Object({ message: Type.String({ description: 'Text to echo back.' }) }),
      },
      ({ message }) => message,
    )
    .tool(
      'add',
      {
        description: 'Adds two numbers and returns the sum as text.',
        input: Type.Object({ a: Type.Number(), b: Type.Number() }),
      },
      ({ a, b }) => String(a + b),
    )
    .tool(
      'sleep',
      {
        description: `Waits the given number of seconds (at most ${MAX_SLEEP_SECONDS}), then answers. Cancellable.`,
        input: Type.Object({
          seconds: Type.Number({ minimum: 0, maximum: MAX_SLEEP_SECONDS }),
        }),
      },
      async ({ seconds }, { signal }) => {
        await sleep(seconds * 1000, signal)
        return `slept ${seconds}s`
      },
    )
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
