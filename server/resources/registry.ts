import { Catalog } from '../protocol/catalog.ts'
import type { Completer, HandlerContext } from '../protocol/context.ts'
import { invalidParams } from '../protocol/errors.ts'
import type {
  ReadReturn,
  ResourceContents,
  ResourceMeta,
  ResourceReader,
  ResourceTemplateMeta,
  TemplateReader,
} from './types.ts'
import { UriTemplate, UriTemplateError } from './uri-template.ts'

/** The longest URI (UTF-8 bytes) a client may name in a read, a subscription or a completion. */
export const MAX_URI_BYTES = 8 * 1024

interface RegisteredResource {
  descriptor: Record<string, unknown>
  mimeType: string | undefined
  read: ResourceReader
}

export interface RegisteredTemplate {
  descriptor: Record<string, unknown>
  template: UriTemplate
  mimeType: string | undefined
  read: TemplateReader
  /** Completion per variable; a Map so a variable named `constructor` is just a name. */
  complete: ReadonlyMap<string, Completer>
}

/**
 * Refuses a URI past MAX_URI_BYTES, before anything matches or keeps it.
 * @throws ProtocolError -32602 naming the limit.
 */
export function checkUriLength(uri: string, method: string): void {
  const bytes = Buffer.byteLength(uri)
  if (bytes > MAX_URI_BYTES) {
    throw invalidParams(
      `the uri of ${method} is ${bytes} bytes; the limit is ${MAX_URI_BYTES} bytes`,
    )
  }
}

/** Resource and template registration errors (taken URI, empty name, a template sluice cannot match). */
export class ResourceRegistrationError extends Error {
  override readonly name = 'ResourceRegistrationError'
}

/** The resources and resource templates a server offers. */
export class ResourceRegistry {
  readonly resources = new Catalog<RegisteredResource>()
  readonly templates = new Catalog<RegisteredTemplate>()

  /** @throws ResourceRegistrationError when the URI is taken. */
  resource(uri: string, meta: ResourceMeta, read: ResourceReader): this {
    if (!meta.name) throw new ResourceRegistrationError(`resource ${uri} needs a name`)
    const entry = { descriptor: { uri, ...meta }, mimeType: meta.mimeType, read }
    if (!this.resources.add(uri, entry)) {
      throw new ResourceRegistrationError(`resource ${uri} is already registered`)
    }
    return this
  }

  /**
   * @throws ResourceRegistrationError when the template is taken, has two `{+var}`/`{#var}`, or
   * two variables with no literal between them.
   */
  resourceTemplate(uriTemplate: string, meta: ResourceTemplateMeta, read: TemplateReader): this {
    const { complete, ...listed } = meta
    if (!listed.name) throw new ResourceRegistrationError(`template ${uriTemplate} needs a name`)
    const entry: RegisteredTemplate = {
      descriptor: { uriTemplate, ...listed },
      template: compileTemplate(uriTemplate),
      mimeType: listed.mimeType,
      read,
      complete: new Map(Object.entries(complete ?? {})),
    }
    if (!this.templates.add(uriTemplate, entry)) {
      throw new ResourceRegistrationError(`template ${uriTemplate} is already registered`)
    }
    return this
  }

  /** Whether `uri` names a resource or matches a template. */
  knows(uri: string): boolean {
    if (this.resources.get(uri)) return true
    return this.templates.values().some((t) => t.template.match(uri) !== undefined)
  }

  /** Reads `uri` from its resource or the first template it matches; undefined when none. */
  async read(uri: string, ctx: HandlerContext): Promise<ResourceContents[] | undefined> {
    const resource = this.resources.get(uri)
    if (resource) return toContents(uri, resource.mimeType, await resource.read(uri, ctx))
    for (const t of this.templates.values()) {
      const variables = t.template.match(uri)
      if (variables) return toContents(uri, t.mimeType, await t.read(uri, variables, ctx))
    }
    return undefined
  }
}

function compileTemplate(uriTemplate: string): UriTemplate {
  try {
    return new UriTemplate(uriTemplate)
  } catch (err) {
    if (err instanceof UriTemplateError) {
      throw new ResourceRegistrationError(`template ${uriTemplate}: ${err.message}`)
    }
    throw err
  }
}

function toContents(
  uri: string,
  mimeType: string | undefined,
  value: ReadReturn,
): ResourceContents[] {
  const type = mimeType === undefined ? {} : { mimeType }
  if (typeof value === 'string') return [{ uri, ...type, text: value }]
  if (value instanceof Uint8Array) {
    return [{ uri, ...type, blob: Buffer.from(value).toString('base64') }]
  }
  return value.contents
}
