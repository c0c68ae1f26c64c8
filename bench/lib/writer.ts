import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'

export interface WriterOptions {
  /** ws://host:port/path */
  url: string
  document: string
  token?: string
  /** Pre-filled content: the provider sends it as its first sync. */
  doc?: Y.Doc
}

/**
 * One editor the way a browser tab is one: a real @hocuspocus/provider with a
 * WebSocket of its own. `edit` makes a change and resolves with the time until
 * the server acknowledged it, i.e. until the provider's `unsyncedChanges`
 * came back to 0 — the moment an editor shows "all changes saved".
 */
export class Writer {
  readonly doc: Y.Doc
  readonly provider: HocuspocusProvider
  private readonly socket: HocuspocusProviderWebsocket
  private ackWaiter: { resolve: () => void; reject: (error: Error) => void } | null = null
  private readyWaiter: (() => void) | null = null
  private failure: Error | null = null

  constructor(options: WriterOptions) {
    this.doc = options.doc ?? new Y.Doc()
    this.socket = new HocuspocusProviderWebsocket({ url: options.url, minDelay: 100, maxDelay: 1000 })
    this.provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name: options.document,
      document: this.doc,
      token: options.token ?? null,
      onAuthenticationFailed: ({ reason }) => this.fail(new Error(`authentication failed for ${options.document}: ${reason}`)),
    })
    this.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number !== 0) return
      const waiter = this.ackWaiter
      this.ackWaiter = null
      waiter?.resolve()
      this.checkReady()
    })
    this.provider.on('synced', () => this.checkReady())
    this.provider.attach()
  }

  get isReady(): boolean {
    return this.provider.isSynced && this.provider.unsyncedChanges === 0
  }

  /** Connected, authenticated, first sync done and everything it sent acknowledged. */
  ready(timeoutMs = 30_000): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.isReady) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer not ready within ${timeoutMs} ms`)), timeoutMs)
      this.readyWaiter = () => {
        clearTimeout(timer)
        if (this.failure) reject(this.failure)
        else resolve()
      }
    })
  }

  /** Applies `change` in one transaction; resolves with milliseconds until the server acknowledged it. */
  async edit(change: (doc: Y.Doc) => void): Promise<number> {
    if (this.failure) throw this.failure
    if (this.ackWaiter) throw new Error('edit() while the previous edit is still unacknowledged')
    const acked = new Promise<void>((resolve, reject) => (this.ackWaiter = { resolve, reject }))
    const started = performance.now()
    this.doc.transact(() => change(this.doc))
    if (this.provider.unsyncedChanges === 0) {
      this.ackWaiter = null
      throw new Error('the change did not produce an update to send')
    }
    await acked
    return performance.now() - started
  }

  /** Makes a pending edit (and all later ones) fail, e.g. when a benchmark's deadline passed. */
  fail(error: Error): void {
    this.failure ??= error
    const waiter = this.ackWaiter
    this.ackWaiter = null
    waiter?.reject(error)
    this.readyWaiter?.()
    this.readyWaiter = null
  }

  destroy(): void {
    this.fail(new Error('writer destroyed'))
    this.provider.destroy()
    this.socket.destroy()
  }

  private checkReady(): void {
    if (!this.readyWaiter || !this.isReady) return
    const waiter = this.readyWaiter
    this.readyWaiter = null
    waiter()
  }
}
