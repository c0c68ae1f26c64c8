import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'

/** An admin's editor of one document, as the suites drive it: edit `doc`, then await `saved()`. */
export interface BenchEditor {
  doc: Y.Doc
  /** Resolves when the server has acknowledged (committed) every change: the admin's "saved". */
  saved(): Promise<void>
  destroy(): void
}

export async function connectEditor(url: string, name: string, token: string): Promise<BenchEditor> {
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: doc, token })
  provider.attach()
  const deadline = Date.now() + 10_000
  while (!provider.isSynced) {
    if (Date.now() > deadline) throw new Error(`the editor of ${name} did not sync`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return {
    doc,
    saved() {
      if (provider.unsyncedChanges === 0) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const onChange = ({ number }: { number: number }) => {
          if (number !== 0) return
          provider.off('unsyncedChanges', onChange)
          resolve()
        }
        provider.on('unsyncedChanges', onChange)
      })
    },
    destroy() {
      provider.destroy()
      socket.destroy()
    },
  }
}
