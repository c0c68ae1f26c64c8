// A provider that opens one document and reports when it is synced, in its
// own thread (bench/suites/longlog.ts): applying a large document on sync is
// the client's work, and must not count as the server's event-loop time.
import { parentPort, workerData } from 'node:worker_threads'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'

const { url, name, token, root } = workerData as { url: string; name: string; token: string; root: string }
const doc = new Y.Doc()
const socket = new HocuspocusProviderWebsocket({ url, minDelay: 100, maxDelay: 1000 })
const provider = new HocuspocusProvider({
  websocketProvider: socket,
  name,
  document: doc,
  token,
  onSynced: () => parentPort!.postMessage({ type: 'synced', at: Date.now(), text: doc.getText(root).toString() }),
})
provider.attach()
parentPort!.on('message', () => {
  provider.destroy()
  socket.destroy()
  parentPort!.close()
})
