// An editor of the long document itself (bench/suites/longlog.ts), in its own
// thread: its first sync applies the whole document, client work that must
// not count as the server's event-loop time. Once synced it types back to
// back at the end of the text until told to stop, then reports each edit's
// start (wall clock: performance.timeOrigin + now, comparable across threads)
// and the milliseconds until the server acknowledged it.
import { parentPort, workerData } from 'node:worker_threads'
import { wallClock } from './wall-clock.ts'
import { Writer } from './writer.ts'

const { url, name, token, root } = workerData as { url: string; name: string; token: string; root: string }
const writer = new Writer({ url, document: name, token })
await writer.ready(120_000)
parentPort!.postMessage({ type: 'ready' })
const edits: Array<[startedAt: number, ackMs: number]> = []
let running = true
parentPort!.once('message', () => (running = false))
const text = writer.doc.getText(root)
while (running) {
  const startedAt = wallClock()
  edits.push([startedAt, await writer.edit(() => text.insert(text.length, 'y'))])
  // Let the stop message in between edits (an ack resolves on a socket event, which may run first).
  await new Promise((resolve) => setImmediate(resolve))
}
parentPort!.postMessage({ type: 'edits', edits })
writer.destroy()
parentPort!.close()
