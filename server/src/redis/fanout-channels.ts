/** Redis channel names under one prefix. */
export class FanoutChannels {
  readonly prefix: string

  constructor(prefix: string) {
    this.prefix = prefix
  }

  /** Every instance holding the document listens here. */
  document(name: string): string {
    return `${this.prefix}:doc:${name}`
  }

  /** Replies addressed to one instance. `#` cannot clash with a document channel. */
  node(nodeId: string): string {
    return `${this.prefix}#node:${nodeId}`
  }
}
