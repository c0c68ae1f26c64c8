import type { RefusalReason } from '@botsync/shared-docs'

/** In-process counters; exposed by /health and (read at scrape time) by /metrics (prometheus.ts). */
export class Metrics {
  appends = 0
  appendedBytes = 0
  refusedWrites = 0
  /** Client updates refused (not stored, not applied), by reason; /health `refusedUpdates`. */
  readonly refusedUpdates: Record<RefusalReason, number> = { 'read-only': 0, 'invalid-update': 0, 'document-too-large': 0, 'rate-limited': 0, 'too-much-waiting': 0 }
  /** Sockets closed for sending updates while refused for their rate (1008 `rate-limited`). */
  rateLimitClosures = 0
  /** Redis fan-out: messages published, dropped while Redis was down, received from peers, state-vector exchanges started. */
  readonly fanout = { published: 0, dropped: 0, received: 0, syncRequests: 0 }
  /** Mini App reader sockets (/readers): opened, closed, refused authentications, refused frames. */
  readonly readers = { connected: 0, disconnected: 0, refused: 0, refusedFrames: 0 }
  /** /collab + /readers upgrades refused (per client address, too many pending) and unauthenticated sockets closed (timeout, bytes). */
  readonly connections = { refusedPerAddress: 0, refusedPending: 0, authenticationTimeouts: 0, tooManyBytes: 0 }
  /** Broadcasts too long for one slice of event-loop time, and the turns they gave back (writes/sliced-broadcast.ts). */
  readonly broadcasts = { sliced: 0, yields: 0 }
  private appendMillis: number[] = []
  /** Told each append's latency (ms); /metrics' latency histogram listens here. */
  onAppend: ((millis: number) => void) | undefined
  /** Told how long each relay of an update to a public document's readers on this instance took (ms); /metrics' histogram listens here. */
  onReaderBroadcast: ((millis: number) => void) | undefined

  observeAppend(millis: number, bytes: number): void {
    this.appends += 1
    this.appendedBytes += bytes
    this.appendMillis.push(millis)
    this.onAppend?.(millis)
    if (this.appendMillis.length > 1000) this.appendMillis.splice(0, this.appendMillis.length - 1000)
  }

  /** p50/p99 of the last 1,000 appends (milliseconds). */
  appendLatency(): { p50: number; p99: number } {
    const sorted = [...this.appendMillis].sort((a, b) => a - b)
    const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0)
    return { p50: at(0.5), p99: at(0.99) }
  }
}
