// Telegram Bot API limits and the runner's own naming rules, in one place so
// validation, the bot and the admin agree on every number.

export const LIMITS = Object.freeze({
  /** callback_data: 1–64 bytes, UTF-8. */
  callbackDataBytes: 64,
  /** Message text: 1–4096 characters. */
  messageText: 4096,
  /** A media message's caption: 0–1024 characters. */
  caption: 1024,
  /** sendMediaGroup: 2–10 items. */
  albumMin: 2,
  albumMax: 10,
  /** Upload through the Bot API (multipart): a photo ≤ 10 MB, any other file ≤ 50 MB. */
  photoBytes: 10 * 1024 * 1024,
  fileBytes: 50 * 1024 * 1024,
  /** sendPhoto: width + height at most 10000 pixels, and neither side more than 20 times the other. */
  photoDimensionsSum: 10_000,
  photoAspectRatio: 20,
  /** A step's title (botsync's own name for it, never sent): at most 80 characters. */
  stepTitle: 80,
  /** Button label: non-empty, at most 64 characters. */
  buttonText: 64,
  inlineButtonsPerRow: 8,
  inlineButtonsTotal: 100,
  replyButtonsPerRow: 12,
})

/** Bot command without the slash. */
export const COMMAND_PATTERN = /^[a-z0-9_]{1,32}$/
/** `/start <payload>` deep-link payload. */
export const DEEP_LINK_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
/** Input variable names, usable as `{name}` placeholders. */
export const INPUT_VAR_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/

const encoder = new TextEncoder()

export function utf8Length(text: string): number {
  return encoder.encode(text).length
}

/**
 * Length as Telegram counts it for text limits. We count UTF-16 code units
 * (String#length), which is what Telegram uses for entity offsets and is never
 * less than the code-point count, so a text we accept is never too long.
 */
export function textLength(text: string): number {
  return text.length
}

/** The callback_data the bot sends for an inline button: `b:<buttonId>`. */
export function callbackDataFor(buttonId: string): string {
  return `b:${buttonId}`
}

/** The button id in callback_data made by callbackDataFor, or null. */
export function parseCallbackData(data: string): string | null {
  return typeof data === 'string' && data.startsWith('b:') && data.length > 2 ? data.slice(2) : null
}
