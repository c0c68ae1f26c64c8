// The reader's live view of `<space>/public`: a read-only provider on the
// server's reader endpoint (/readers), authenticated with the Telegram
// initData, and the projection re-read on every update.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { projectPublicContent, publicRoot, type PublicContentJson } from '@botsync/shared-docs'
import * as Y from 'yjs'
import { YState } from '../lib/yjs/y-state.svelte.ts'

export type ReaderStatus = 'connecting' | 'live' | 'reconnecting' | 'refused'

export class PublicReader {
  readonly #doc = new Y.Doc()
  readonly #live = new YState(publicRoot(this.#doc), () => projectPublicContent(this.#doc))
  /** Projected once per change, however often the page reads it. */
  #content = $derived.by(() => this.#live.current)
  #status = $state<ReaderStatus>('connecting')
  #refusal = $state<string | null>(null)
  readonly #socket: HocuspocusProviderWebsocket
  readonly #provider: HocuspocusProvider

  constructor(options: { url: string; document: string; initData: string }) {
    this.#socket = new HocuspocusProviderWebsocket({ url: options.url })
    this.#provider = new HocuspocusProvider({
      websocketProvider: this.#socket,
      name: options.document,
      document: this.#doc,
      // Readers are invisible: the server drops reader presence anyway, so
      // do not send any. Its heartbeat keeps the idle socket alive.
      awareness: null,
      // `tma ` marks the token as Telegram launch data (the server accepts it with or without).
      token: `tma ${options.initData}`,
      onSynced: () => {
        this.#status = 'live'
      },
      onDisconnect: () => {
        if (this.#status !== 'refused') this.#status = 'reconnecting'
      },
      onAuthenticationFailed: ({ reason }) => {
        this.#status = 'refused'
        this.#refusal = reason
        this.destroy()
      },
    })
    this.#provider.attach()
  }

  /** What the public document holds now. */
  get content(): PublicContentJson {
    return this.#content
  }

  get status(): ReaderStatus {
    return this.#status
  }

  /** Why the server refused (e.g. `init-data-expired`). */
  get refusal(): string | null {
    return this.#refusal
  }

  destroy(): void {
    this.#provider.destroy()
    this.#socket.destroy()
  }
}
