// The reader's live view of `<space>/public`: a read-only provider on the
// server's reader endpoint (/readers), authenticated with the Telegram
// initData, and the projection re-read on every update.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { projectPublicContent, type PublicContentJson } from '@botsync/shared-docs'
import * as Y from 'yjs'

export type ReaderStatus = 'connecting' | 'live' | 'reconnecting' | 'refused'

export class PublicReader {
  content = $state<PublicContentJson>({ texts: {}, scenarios: [], menu: [] })
  status = $state<ReaderStatus>('connecting')
  /** Why the server refused (e.g. `init-data-expired`). */
  refusal = $state<string | null>(null)
  readonly #doc = new Y.Doc()
  readonly #socket: HocuspocusProviderWebsocket
  readonly #provider: HocuspocusProvider

  constructor(options: { url: string; document: string; initData: string }) {
    this.#doc.on('update', () => (this.content = projectPublicContent(this.#doc)))
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
        this.status = 'live'
        this.content = projectPublicContent(this.#doc)
      },
      onDisconnect: () => {
        if (this.status !== 'refused') this.status = 'reconnecting'
      },
      onAuthenticationFailed: ({ reason }) => {
        this.status = 'refused'
        this.refusal = reason
        this.destroy()
      },
    })
    this.#provider.attach()
  }

  destroy(): void {
    this.#provider.destroy()
    this.#socket.destroy()
  }
}
