/** What changed on the server; the kinds a `subscriptions/listen` filter can opt into. */
export type ChangeEvent =
  | { kind: 'toolsListChanged' }
  | { kind: 'promptsListChanged' }
  | { kind: 'resourcesListChanged' }
  | { kind: 'resourceUpdated'; uri: string }

/**
 * Where change events meet their listeners. The in-process bus below serves one process; a bus on
 * Redis or NATS implements the same two methods to fan changes out over many.
 */
export interface ChangeBus {
  publish(event: ChangeEvent): void
  /** @returns the function that ends the subscription. */
  subscribe(listener: (event: ChangeEvent) => void): () => void
}

/**
 * The change bus of one process: synchronous fan-out to every listener, so a listener must return
 * at once (coalesce or queue, never wait) and not throw. The listen streams of a server share one
 * listener here and coalesce per stream, so one publish costs one lookup per stream that hears it.
 */
export class InProcessChangeBus implements ChangeBus {
  readonly #listeners = new Set<(event: ChangeEvent) => void>()

  get listeners(): number {
    return this.#listeners.size
  }

  publish(event: ChangeEvent): void {
    for (const listener of this.#listeners) listener(event)
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    // Wrapped so that one function subscribed twice is two subscriptions.
    const entry = (event: ChangeEvent) => listener(event)
    this.#listeners.add(entry)
    return () => this.#listeners.delete(entry)
  }
}
