// Many idle Mini App readers for a benchmark, spread over worker threads
// (bench/lib/reader-fleet-worker.ts), so the bench's own thread stays free to
// edit and time, and the readers' receiving is spread over several loops.
import { Worker } from 'node:worker_threads'
import type { FleetReply, FleetRequest, FleetWorkerData } from './reader-fleet-worker.ts'

const WORKER_MAIN = new URL('./reader-fleet-worker.ts', import.meta.url)

export interface FleetOptions {
  document: string
  telegramToken: string
  providerVersion: string
  threads: number
  /** User ids of the fleet's readers are firstUserId, firstUserId + 1, …; each thread gets its own range. */
  firstUserId: number
}

export class ReaderFleet {
  private readonly workers: Worker[]
  /** Each worker's replies, in order: a worker answers its requests one by one. */
  private readonly waiting = new Map<Worker, ((reply: FleetReply) => void)[]>()

  constructor(options: FleetOptions) {
    this.workers = Array.from({ length: options.threads }, (_, i) => {
      const workerData: FleetWorkerData = {
        document: options.document,
        telegramToken: options.telegramToken,
        providerVersion: options.providerVersion,
        firstUserId: options.firstUserId + i * 1_000_000,
      }
      const worker = new Worker(WORKER_MAIN, { workerData })
      this.waiting.set(worker, [])
      worker.on('message', (reply: FleetReply) => this.waiting.get(worker)!.shift()?.(reply))
      worker.on('error', (error) => {
        for (const resolve of this.waiting.get(worker)!.splice(0))
          resolve({ type: 'opened', opened: 0, failed: 0, errors: [`worker failed: ${error.message}`], firstAt: NaN, lastAt: NaN })
      })
      return worker
    })
  }

  /**
   * Opens `count` more readers, split evenly over the threads, each keeping
   * at most `window` handshakes in flight. Resolves when every one is
   * authenticated and synced (or failed): the wall time is the caller's.
   */
  async open(url: string, count: number, window: number): Promise<{ opened: number; failed: number; errors: string[]; firstAt: number; lastAt: number }> {
    const shares = this.workers.map((_, i) => Math.floor(count / this.workers.length) + (i < count % this.workers.length ? 1 : 0))
    const replies = (await Promise.all(this.workers.map((worker, i) => this.ask(worker, { type: 'open', url, count: shares[i], window })))) as Extract<
      FleetReply,
      { type: 'opened' }
    >[]
    return {
      opened: replies.reduce((sum, r) => sum + r.opened, 0),
      failed: replies.reduce((sum, r) => sum + r.failed, 0),
      errors: replies.flatMap((r) => r.errors).slice(0, 5),
      /** When the first thread started its first handshake, and the last reader synced (absolute ms). */
      firstAt: Math.min(...replies.map((r) => r.firstAt)),
      lastAt: Math.max(...replies.map((r) => r.lastAt).filter((at) => !Number.isNaN(at))),
    }
  }

  /** Every reader will time the next update it receives. Resolves once all threads have armed. */
  async arm(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.ask(worker, { type: 'arm' })))
  }

  /** The arrival times (absolute ms) of that update, once all readers have it or after `timeoutMs`. */
  async collect(timeoutMs: number): Promise<{ arrivals: number[]; missed: number }> {
    const replies = (await Promise.all(this.workers.map((worker) => this.ask(worker, { type: 'collect', timeoutMs })))) as Extract<FleetReply, { type: 'collected' }>[]
    return { arrivals: replies.flatMap((r) => Array.from(r.arrivals)), missed: replies.reduce((sum, r) => sum + r.missed, 0) }
  }

  /** Closes every reader (the threads stay, for another open()). */
  async closeReaders(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.ask(worker, { type: 'close' })))
  }

  async destroy(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()))
  }

  private ask(worker: Worker, request: FleetRequest): Promise<FleetReply> {
    return new Promise((resolve) => {
      this.waiting.get(worker)!.push(resolve)
      worker.postMessage(request)
    })
  }
}
