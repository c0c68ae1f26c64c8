import { createHash, timingSafeEqual } from 'node:crypto'
import type { Update } from 'telegraf/types'

/** Largest webhook body accepted; Telegram's updates are far smaller. */
export const WEBHOOK_MAX_BYTES = 1024 * 1024

export type WebhookOutcome = { status: 200 } | { status: 400 | 401 | 413; error: string; message: string }

/**
 * The bot's side of the webhook, for whatever HTTP layer serves its path
 * (the server's HttpApi): checks Telegram's X-Telegram-Bot-Api-Secret-Token
 * in constant time and records the update in the inbox; 200 only once the
 * insert committed, so Telegram retries anything not recorded.
 */
export class WebhookReceiver {
  /** The URL's path, where the HTTP layer routes POSTs. */
  readonly path: string
  /** Largest body receive() takes (WEBHOOK_MAX_BYTES). */
  readonly maxBytes = WEBHOOK_MAX_BYTES
  private readonly secretDigest: Buffer
  private readonly record: (update: Update) => Promise<void>

  constructor(options: { url: string; secret: string; record: (update: Update) => Promise<void> }) {
    this.path = new URL(options.url).pathname
    this.secretDigest = digest(options.secret)
    this.record = options.record
  }

  /** Compares digests, so neither the secret's content nor its length shows in the timing. */
  checkSecret(given: string | undefined): boolean {
    return given !== undefined && timingSafeEqual(digest(given), this.secretDigest)
  }

  /** Parses and records a body whose secret was checked; throws only when recording failed (answer 5xx: Telegram retries). */
  async receive(body: Buffer): Promise<WebhookOutcome> {
    if (body.length > this.maxBytes) return { status: 413, error: 'body-too-large', message: `the body exceeds ${WEBHOOK_MAX_BYTES} bytes` }
    let update: unknown
    try {
      update = JSON.parse(body.toString('utf8'))
    } catch {
      return { status: 400, error: 'invalid-json', message: 'the body is not valid JSON' }
    }
    const id = (update as { update_id?: unknown } | null)?.update_id
    if (typeof update !== 'object' || update === null || Array.isArray(update) || !Number.isSafeInteger(id) || (id as number) < 0) {
      return { status: 400, error: 'not-an-update', message: 'send a Telegram Update: an object with an integer update_id' }
    }
    await this.record(update as Update)
    return { status: 200 }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
