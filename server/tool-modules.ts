import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** A `--tools` module that cannot be loaded or has no usable default export. */
export class ToolModuleError extends Error {
  override readonly name = 'ToolModuleError'
}

/**
 * Imports each module (a path relative to `cwd`, or absolute) and calls its default export with
 * `server`, awaiting it, in order. The export may register tools, or anything else the server offers.
 * @throws ToolModuleError naming the module that failed.
 */
export async function loadToolModules<S>(
  paths: readonly string[],
  server: S,
  cwd: string = process.cwd(),
): Promise<void> {
  for (const path of paths) {
    const url = pathToFileURL(isAbsolute(path) ? path : resolve(cwd, path)).href
    let module: { default?: unknown }
    try {
      module = (await import(url)) as { default?: unknown }
    } catch (err) {
      throw new ToolModuleError(`Tools module: ${path} cannot be loaded: ${(err as Error).message}`)
    }
    if (typeof module.default !== 'function') {
      throw new ToolModuleError(
        `Tools module: ${path} has no default export function (export default (server) => { server.tool(...) })`,
      )
    }
    await (module.default as (server: S) => unknown)(server)
  }
}
