/**
 * What the bot reports for metrics; no metrics library here, the host maps
 * these to its own. `status`: the HTTP status Telegram answered (200, 400,
 * 429, ...), or `network` when no answer came.
 */
export interface BotObserver {
  /** One update ran through the bot's handlers (answered or failed), taking `ms`. */
  updateHandled(ms: number): void
  /** One Telegram Bot API request (each retry counts). */
  telegramCall(method: string, status: number | 'network'): void
}

/**
 * How the bot stands with Telegram, for a host that shows it (the server's
 * /health and the admin's header): `connected` once getMe answered and after
 * every answered poll (or the webhook was set), `failing` with Telegram's
 * description (`Unauthorized` for a revoked token, `Conflict: …` when
 * something else polls this bot) or the network error.
 */
export type BotStatus = { state: 'connected' } | { state: 'failing'; error: string; code?: number }

/** Telegram's description of a failure (a TelegramError's), or the error's message. */
export function describeTelegramError(error: unknown): { error: string; code?: number } {
  const telegram = error as { code?: unknown; description?: unknown; response?: { error_code?: unknown; description?: unknown } } | null
  if (typeof telegram?.description === 'string') return { error: telegram.description, ...(typeof telegram.code === 'number' ? { code: telegram.code } : {}) }
  return { error: error instanceof Error ? error.message : String(error) }
}
