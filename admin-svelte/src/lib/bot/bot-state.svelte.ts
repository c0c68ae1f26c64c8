// The space's Telegram bot as the server runs it (GET /api/spaces/:space/bot):
// its @username and whether it is connected, failing (with Telegram's error),
// starting or stopped. Polled while the page is visible, for the header.
// Owners set the token here (PUT, verified by the server with getMe, never
// shown again) or remove it (DELETE).
import { ApiClient, segment, type ApiOptions } from '../api/api-client.ts'
import { parseBot, type BotInfo } from '../api/wire.ts'
import { everyWhileVisible } from '../ui/visible-interval.ts'

/** How often the header re-reads the bot's status while the page is visible. */
export const BOT_POLL_MS = 10_000

export type BotActionResult = { ok: true } | { ok: false; error: string; message: string }

export class BotState {
  readonly space: string
  #bot = $state<BotInfo | null>(null)
  #error = $state<string | null>(null)
  #saving = $state(false)
  readonly #api: ApiClient
  #stopPolling: (() => void) | null = null
  #destroyed = false

  constructor(space: string, options: ApiOptions) {
    this.space = space
    this.#api = new ApiClient(options)
  }

  /** What the server last said; null before the first answer. */
  get bot(): BotInfo | null {
    return this.#bot
  }

  /** The bot's @username, when one is configured. */
  get username(): string | null {
    return this.#bot?.configured ? this.#bot.username : null
  }

  /** Why the last status read failed (the previous status stays). */
  get error(): string | null {
    return this.#error
  }

  /** A save or removal is under way. */
  get saving(): boolean {
    return this.#saving
  }

  async refresh(): Promise<boolean> {
    const result = await this.#api.get('/api/spaces/' + segment(this.space) + '/bot')
    if (this.#destroyed) return false
    if (!result.ok) {
      this.#error = result.message
      return false
    }
    const bot = parseBot(result.body)
    if (!bot) {
      this.#error = 'The server sent an unexpected answer about the bot.'
      return false
    }
    this.#bot = bot
    this.#error = null
    return true
  }

  /** Sets the space's bot token (owners). The server checks it with Telegram first. */
  async save(token: string): Promise<BotActionResult> {
    const value = token.trim()
    if (value === '') return { ok: false, error: 'invalid-request', message: 'Paste the token @BotFather gave you.' }
    this.#saving = true
    try {
      const result = await this.#api.request<{ username?: unknown }>('PUT', `/api/spaces/${segment(this.space)}/bot`, { token: value })
      if (!result.ok) return { ok: false, error: result.error, message: result.message }
      const username = typeof result.body?.username === 'string' ? result.body.username : (this.username ?? '')
      this.#bot = { configured: true, username, status: 'starting', error: null }
      void this.refresh()
      return { ok: true }
    } finally {
      this.#saving = false
    }
  }

  /** Removes the space's bot (owners): the server stops it and forgets the token. */
  async remove(): Promise<BotActionResult> {
    this.#saving = true
    try {
      const result = await this.#api.request('DELETE', `/api/spaces/${segment(this.space)}/bot`)
      if (!result.ok) return { ok: false, error: result.error, message: result.message }
      this.#bot = { configured: false }
      return { ok: true }
    } finally {
      this.#saving = false
    }
  }

  /**
   * Reads the status now and every `intervalMs` while the document is
   * visible; a page coming back into view reads it at once.
   */
  startPolling(intervalMs = BOT_POLL_MS): void {
    if (this.#stopPolling || this.#destroyed) return
    this.#stopPolling = everyWhileVisible(() => void this.refresh(), intervalMs)
  }

  destroy(): void {
    this.#destroyed = true
    this.#stopPolling?.()
    this.#stopPolling = null
  }
}
