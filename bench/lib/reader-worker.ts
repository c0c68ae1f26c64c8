// A provider that opens one document and reports when it is synced, in its
// own thread (bench/suites/longlog.ts): applying a large document on sync is
// the client's work, and must not count as the server's event-loop time.
// It also reports when its socket opened (the provider then sends its
// authentication and sync step 1 at once) and when the server's sync step 2,
// the whole document, arrived, before the provider applies it: what the
// server made the client wait, on the wall clock (performance.timeOrigin +
// now, comparable across threads).
import { parentPort, workerData } from 'node:worker_threads'
import * as decoding from 'lib0/decoding'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { decodeFrame, MessageType } from '@botsync/testkit/raw-client'
import { messageYjsSyncStep2 } from 'y-protocols/sync'
import * as Y from 'yjs'
import { wallClock } from './wall-clock.ts'

const { url, name, token, root } = workerData as { url: string; name: string; token: string; root: string }
const doc = new Y.Doc()
let openedAt = Number.NaN
let stateArrivedAt = Number.NaN
/** The platform WebSocket with a first listener of its own: the provider's listeners apply the state before any added later would run. */
class TimedWebSocket extends WebSocket {
  constructor(address: string | URL, protocols?: string | string[]) {
    super(address, protocols)
    this.addEventListener('open', () => (openedAt = wallClock()))
    this.addEventListener('message', ({ data }: MessageEvent) => {
      if (!Number.isNaN(stateArrivedAt) || !(data instanceof ArrayBuffer) || data.byteLength < 2) return
      const at = wallClock()
      const { document, type, decoder } = decodeFrame(new Uint8Array(data))
      if (document !== name || (type !== MessageType.Sync && type !== MessageType.SyncReply)) return
      if (decoding.readVarUint(decoder) === messageYjsSyncStep2) stateArrivedAt = at
    })
  }
}
const socket = new HocuspocusProviderWebsocket({ url, minDelay: 100, maxDelay: 1000, WebSocketPolyfill: TimedWebSocket })
const provider = new HocuspocusProvider({
  websocketProvider: socket,
  name,
  document: doc,
  token,
  onSynced: () => parentPort!.postMessage({ type: 'synced', at: Date.now(), openedAt, stateArrivedAt, syncedAt: wallClock(), text: doc.getText(root).toString() }),
})
provider.attach()
parentPort!.on('message', () => {
  provider.destroy()
  socket.destroy()
  parentPort!.close()
})
