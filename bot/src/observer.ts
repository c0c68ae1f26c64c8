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
