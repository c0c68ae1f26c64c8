// The wire shapes of a space's Telegram bot (GET/PUT/DELETE
// /api/spaces/:space/bot), shared by the server and the admin. The token
// goes one way only (PUT); nothing ever answers it back.

export const SPACE_BOT_STATES = ['starting', 'connected', 'failing', 'stopped'] as const
export type SpaceBotState = (typeof SPACE_BOT_STATES)[number]

/** GET /api/spaces/:space/bot. `error`: Telegram's description while failing (e.g. `Unauthorized`, `Conflict: …`). */
export type SpaceBotView = { configured: false } | { configured: true; username: string; status: SpaceBotState; error?: string }

/** PUT /api/spaces/:space/bot `{token}` answers this. */
export interface SpaceBotSet {
  username: string
}

/**
 * Error codes of PUT: `invalid-token` (400, not shaped like a BotFather
 * token), `telegram-refused` (400, getMe refused it; the message is
 * Telegram's description), `bot-in-use` (409, the bot serves another space:
 * one bot, one space), `telegram-unreachable` (502).
 */
export const SPACE_BOT_ERRORS = ['invalid-token', 'telegram-refused', 'bot-in-use', 'telegram-unreachable'] as const
export type SpaceBotError = (typeof SPACE_BOT_ERRORS)[number]

/**
 * GET /api/miniapp/bot?space=<space> (no ?space=: BOT_SPACE), public: which
 * bot a space's Mini App belongs to, so a page opened outside Telegram can
 * say where to open it. Only the @username, which Telegram shows anyone;
 * 404 `no-bot` when the space has none (or does not exist: not told apart).
 */
export interface MiniAppBotView {
  username: string
}
