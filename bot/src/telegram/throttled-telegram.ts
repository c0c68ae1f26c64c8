import { Telegram, TelegramError } from 'telegraf'
import type { Opts, Telegram as Methods } from 'telegraf/types'
import type { Logger } from '../logger.ts'
import type { BotObserver } from '../observer.ts'
import { RateLimiter } from './rate-limiter.ts'

type CallApiOptions = Parameters<Telegram['callApi']>[2]

/** Methods that put a message into a chat, and so count against Telegram's rate limits. */
const MESSAGE_METHOD = /^(send|edit|copy|forward)/

/** Telegram's answer to an edit that changes nothing; expected when a user presses the same button twice. */
export const NOT_MODIFIED = 'message is not modified'

export function isNotModified(error: unknown): boolean {
  return error instanceof TelegramError && error.description.includes(NOT_MODIFIED)
}

export interface ThrottledTelegramOptions {
  limiter: RateLimiter
  log: Logger
  /** Attempts per call for 429 / network / 5xx failures. Default 5. */
  maxAttempts?: number
  /** Told the outcome of every request (each retry counts). */
  observe?: Pick<BotObserver, 'telegramCall'>
}

/**
 * The Bot API client every handler uses (the bot's context type hands it to
 * each update): outgoing messages wait for a slot under the per-chat and
 * global rates; a 429 waits `retry_after` and retries; a network failure or
 * a 5xx is retried with backoff; any other error is logged with the method
 * and chat and thrown to the handler, which decides what to do.
 */
export class ThrottledTelegram extends Telegram {
  private readonly limiter: RateLimiter
  private readonly log: Logger
  private readonly maxAttempts: number
  private readonly observe: Pick<BotObserver, 'telegramCall'> | undefined

  constructor(token: string, apiOptions: ConstructorParameters<typeof Telegram>[1], options: ThrottledTelegramOptions) {
    super(token, apiOptions)
    this.limiter = options.limiter
    this.log = options.log
    this.maxAttempts = options.maxAttempts ?? 5
    this.observe = options.observe
  }

  override callApi<M extends keyof Methods>(method: M, payload: Opts<M>, options?: CallApiOptions): Promise<ReturnType<Methods[M]>> {
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id
    return this.send(method, chatId === undefined ? undefined : String(chatId), () => payload, options)
  }

  /**
   * Like callApi, but the payload is built by `compose` only once the
   * chat's send slot has come (and again for each retry), so a message that
   * waited for the rate limiter carries what is current when it goes out,
   * not what was current when it was queued.
   */
  callComposed<M extends keyof Methods>(method: M, chatId: number | string, compose: () => Opts<M>, options?: CallApiOptions): Promise<ReturnType<Methods[M]>> {
    return this.send(method, String(chatId), compose, options)
  }

  private async send<M extends keyof Methods>(method: M, chat: string | undefined, compose: () => Opts<M>, options?: CallApiOptions): Promise<ReturnType<Methods[M]>> {
    const limited = chat !== undefined && MESSAGE_METHOD.test(method)
    for (let attempt = 1; ; attempt++) {
      if (limited) await this.limiter.acquire(chat)
      try {
        const result = await super.callApi(method, compose(), options)
        this.observe?.telegramCall(method, 200)
        return result
      } catch (error) {
        if (error instanceof TelegramError) this.observe?.telegramCall(method, error.code)
        else if ((error as Error).name !== 'AbortError') this.observe?.telegramCall(method, 'network')
        const retryIn = this.retryDelay(error, attempt)
        if (retryIn === null || attempt >= this.maxAttempts || options?.signal?.aborted) {
          if (!isNotModified(error) && (error as Error).name !== 'AbortError') {
            this.log.warn({ event: 'telegram-error', method, chat, attempt, code: codeOf(error), description: descriptionOf(error) }, `${method} failed`)
          }
          throw error
        }
        this.log.warn({ event: 'telegram-retry', method, chat, attempt, retryInMs: retryIn, code: codeOf(error) }, `${method} will be retried`)
        if (chat !== undefined && error instanceof TelegramError && error.code === 429) this.limiter.pause(chat, retryIn)
        await new Promise((resolve) => setTimeout(resolve, retryIn))
      }
    }
  }

  /** ms to wait before retrying, or null when retrying cannot help. */
  private retryDelay(error: unknown, attempt: number): number | null {
    if (error instanceof TelegramError) {
      if (error.code === 429) return Math.max(1, error.parameters?.retry_after ?? 1) * 1000
      // Telegram's 5xx come from its front end before the request was handled.
      if (error.code >= 500) return backoff(attempt)
      return null
    }
    // No response at all (connection refused or reset): the request is sent again.
    if (error instanceof Error && error.name === 'FetchError') return backoff(attempt)
    return null
  }
}

function backoff(attempt: number): number {
  return Math.min(250 * 2 ** (attempt - 1), 5000)
}

function codeOf(error: unknown): number | string | undefined {
  if (error instanceof TelegramError) return error.code
  return (error as { code?: string } | undefined)?.code
}

function descriptionOf(error: unknown): string {
  if (error instanceof TelegramError) return error.description
  return error instanceof Error ? error.message : String(error)
}
