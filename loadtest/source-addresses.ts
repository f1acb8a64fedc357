/**
 * Round-robin over loopback source addresses 127.0.0.1..127.0.0.N. One source address has about
 * 28,000 ephemeral ports towards one server port, so thousands of connections (and the TIME_WAIT
 * they leave) are spread over several.
 */
export class SourceAddresses {
  #next = 0
  readonly addresses: string[]

  constructor(count: number, enabled: boolean) {
    this.addresses = enabled ? Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`) : []
  }

  /** The next source address, or undefined when the target is not IPv4 loopback. */
  take(): string | undefined {
    if (this.addresses.length === 0) return undefined
    const address = this.addresses[this.#next % this.addresses.length]
    this.#next++
    return address
  }
}
