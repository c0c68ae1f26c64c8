/** What getMe says about a bot: kept instead of its token, shown in the admin. */
export interface BotIdentity {
  botId: number
  username: string
}

/** Telegram answered and refused (e.g. 401 Unauthorized for a revoked or made-up token). */
export class TelegramRefused extends Error {
  readonly code: number
  readonly description: string
  constructor(code: number, description: string) {
    super(`Telegram refused the token: ${description}`)
    this.code = code
    this.description = description
  }
}

/** No usable answer from TELEGRAM_API_ROOT (network, timeout, not Telegram's JSON). */
export class TelegramUnreachable extends Error {}

/** The shape of a token from @BotFather: `<bot id>:<secret>`. Anything else is not sent anywhere. */
export const BOT_TOKEN_PATTERN = /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/

/**
 * Asks Telegram (TELEGRAM_API_ROOT) who a token belongs to. Plain fetch, not
 * telegraf: checking a token before storing it must not load the bot. The
 * token is part of the URL, so the URL never goes into an error or log.
 */
export async function telegramGetMe(apiRoot: string, token: string, timeoutMs = 10_000): Promise<BotIdentity> {
  let response: Response
  let body: { ok?: unknown; result?: { id?: unknown; username?: unknown }; description?: unknown; error_code?: unknown }
  try {
    response = await fetch(`${apiRoot.replace(/\/+$/, '')}/bot${token}/getMe`, { signal: AbortSignal.timeout(timeoutMs) })
    body = (await response.json()) as typeof body
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'no answer'
    throw new TelegramUnreachable(`Telegram's Bot API (${new URL(apiRoot).host}) could not be reached: ${reason}`)
  }
  if (body?.ok === true && typeof body.result?.id === 'number' && typeof body.result.username === 'string') {
    return { botId: body.result.id, username: body.result.username }
  }
  if (body?.ok === false && typeof body.description === 'string') {
    throw new TelegramRefused(typeof body.error_code === 'number' ? body.error_code : response.status, body.description)
  }
  throw new TelegramUnreachable(`Telegram's Bot API (${new URL(apiRoot).host}) answered ${response.status} without a Bot API body`)
}
