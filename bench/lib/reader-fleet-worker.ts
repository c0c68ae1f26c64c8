// One thread's share of a reader fleet (bench/lib/reader-fleet.ts): raw
// protocol readers on bare TCP sockets (testkit BareReader: auth with
// Telegram initData, sync step 1, Pong) on one public document. Thousands of sockets in the bench's
// main thread would put their own event loop in every figure; here each
// thread receives, parses and timestamps its readers' frames on its own loop.
// Times are absolute (performance.timeOrigin + now(), in ms) so that they
// compare across threads.
import { parentPort, workerData } from 'node:worker_threads'
import { BareReader } from '@botsync/testkit/bare-reader'
import { signInitData } from '@botsync/testkit/init-data'
import { wallClock } from './wall-clock.ts'

export interface FleetWorkerData {
  document: string
  telegramToken: string
  providerVersion: string
  /** Telegram user ids of this thread's readers start here (one per reader). */
  firstUserId: number
}

export type FleetRequest =
  /** Open `count` more readers to `url`, at most `window` handshakes in flight. */
  | { type: 'open'; url: string; count: number; window: number }
  /** Forget the last arrivals: the next update each reader receives is timed. */
  | { type: 'arm' }
  /** Report, once every reader has received an update since `arm` (or after `timeoutMs`), when each did. */
  | { type: 'collect'; timeoutMs: number }
  | { type: 'close' }

export type FleetReply =
  | { type: 'opened'; opened: number; failed: number; errors: string[]; firstAt: number; lastAt: number }
  | { type: 'armed' }
  /** Arrival times (absolute ms) of the first update after `arm`, one per reader that got one. */
  | { type: 'collected'; arrivals: Float64Array; missed: number }
  | { type: 'closed' }

const data = workerData as FleetWorkerData
const readers: BareReader[] = []
/** Per reader (same index): arrival of its first update since `arm`, NaN until then. */
let firstArrival = new Float64Array(0)
let waiting = 0
/** Readers this thread has tried to open so far: the next one's user id is firstUserId + this. */
let attempts = 0
let onAllArrived: (() => void) | null = null

async function open(url: string, count: number, window: number): Promise<FleetReply> {
  let next = 0
  let failed = 0
  const errors: string[] = []
  let lastAt = Number.NaN
  // Telegram signs a Mini App's initData, not the page: signed before the clock starts.
  const tokens = Array.from({ length: count }, (_, i) => {
    const index = attempts + i
    return signInitData(data.telegramToken, { user: { id: data.firstUserId + index, first_name: `Reader ${index}` } })
  })
  attempts += count
  const one = async (): Promise<void> => {
    while (next < count) {
      const token = tokens[next++]
      try {
        const client = await BareReader.connect(url, data.document, token, { providerVersion: data.providerVersion, timeoutMs: 60_000 })
        const slot = readers.push(client) - 1
        client.onUpdate = () => arrived(slot)
        lastAt = wallClock()
      } catch (error) {
        failed += 1
        if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error))
      }
    }
  }
  const firstAt = wallClock()
  await Promise.all(Array.from({ length: Math.min(window, count) }, one))
  return { type: 'opened', opened: count - failed, failed, errors, firstAt, lastAt }
}

function arrived(slot: number): void {
  if (slot >= firstArrival.length || !Number.isNaN(firstArrival[slot])) return
  firstArrival[slot] = wallClock()
  if (--waiting === 0) onAllArrived?.()
}

async function collect(timeoutMs: number): Promise<FleetReply> {
  if (waiting > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      onAllArrived = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    onAllArrived = null
  }
  const arrivals = firstArrival.filter((at) => !Number.isNaN(at))
  return { type: 'collected', arrivals, missed: firstArrival.length - arrivals.length }
}

parentPort!.on('message', (request: FleetRequest) => {
  const reply = (message: FleetReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer)
  switch (request.type) {
    case 'open':
      void open(request.url, request.count, request.window).then(reply)
      return
    case 'arm':
      firstArrival = new Float64Array(readers.length).fill(Number.NaN)
      waiting = readers.length
      reply({ type: 'armed' })
      return
    case 'collect':
      void collect(request.timeoutMs).then((message) => reply(message, message.type === 'collected' ? [message.arrivals.buffer as ArrayBuffer] : []))
      return
    case 'close':
      for (const reader of readers.splice(0)) reader.close()
      firstArrival = new Float64Array(0)
      waiting = 0
      reply({ type: 'closed' })
      return
  }
})
