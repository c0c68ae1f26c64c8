// Validation and normalisation of reply_markup, following Telegram's rules and
// error texts. Only inline keyboards are echoed back in Message.reply_markup
// (Telegram never returns reply keyboards / remove_keyboard / force_reply).
import { ApiFailure } from './api-failure.ts'
import type { InlineKeyboardButton, InlineKeyboardMarkup } from './types.ts'

const MAX_BUTTONS = 100
const BUTTON_ACTIONS = [
  'callback_data',
  'url',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
]

export interface ValidatedMarkup {
  /** What Message.reply_markup should be after this call (undefined = no inline keyboard). */
  inline: InlineKeyboardMarkup | undefined
}

/**
 * @param inlineOnly true for edit methods, which accept only inline keyboards.
 */
export function validateReplyMarkup(markup: unknown, inlineOnly: boolean): ValidatedMarkup {
  if (markup === undefined || markup === null) return { inline: undefined }
  if (typeof markup !== 'object' || Array.isArray(markup)) {
    throw ApiFailure.badRequest("can't parse reply keyboard markup JSON object")
  }
  const m = markup as Record<string, unknown>
  if ('inline_keyboard' in m) return { inline: validateInlineKeyboard(m['inline_keyboard']) }
  if (inlineOnly) {
    if (Object.keys(m).length === 0) return { inline: undefined }
    throw ApiFailure.badRequest('inline keyboard expected')
  }
  if ('keyboard' in m) {
    const rows = m['keyboard']
    if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r))) {
      throw ApiFailure.badRequest('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    }
    for (const row of rows as unknown[][]) {
      for (const button of row) {
        const text = typeof button === 'string' ? button : (button as { text?: unknown } | null)?.text
        if (typeof text !== 'string' || text === '') throw ApiFailure.badRequest('keyboard button text must be non-empty')
      }
    }
  }
  return { inline: undefined }
}

function validateInlineKeyboard(rows: unknown): InlineKeyboardMarkup | undefined {
  if (!Array.isArray(rows)) {
    throw ApiFailure.badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
  }
  let count = 0
  const normalized: InlineKeyboardButton[][] = []
  for (const row of rows) {
    if (!Array.isArray(row)) {
      throw ApiFailure.badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    }
    const outRow: InlineKeyboardButton[] = []
    for (const raw of row) {
      count++
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw ApiFailure.badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
      }
      outRow.push(validateButton(raw as Record<string, unknown>))
    }
    if (outRow.length > 0) normalized.push(outRow)
  }
  if (count > MAX_BUTTONS) throw ApiFailure.badRequest('reply markup is too long')
  return normalized.length > 0 ? { inline_keyboard: normalized } : undefined
}

function validateButton(button: Record<string, unknown>): InlineKeyboardButton {
  const text = button['text']
  if (typeof text !== 'string') {
    throw ApiFailure.badRequest('can\'t parse inline keyboard button: Field "text" must be of type String')
  }
  if (text.trim() === '') throw ApiFailure.badRequest('BUTTON_TEXT_INVALID')
  const actions = BUTTON_ACTIONS.filter((a) => button[a] !== undefined)
  if (actions.length === 0) throw ApiFailure.badRequest('text buttons are unallowed in the inline keyboard')
  const data = button['callback_data']
  if (data !== undefined) {
    if (typeof data !== 'string') {
      throw ApiFailure.badRequest('can\'t parse inline keyboard button: Field "callback_data" must be of type String')
    }
    const bytes = Buffer.byteLength(data, 'utf8')
    if (bytes < 1 || bytes > 64) throw ApiFailure.badRequest('BUTTON_DATA_INVALID')
  }
  const url = button['url']
  if (url !== undefined) {
    if (typeof url !== 'string' || !isAllowedButtonUrl(url)) {
      throw ApiFailure.badRequest(`inline keyboard button URL '${String(url)}' is invalid: Wrong HTTP URL`)
    }
  }
  const webApp = button['web_app']
  if (webApp !== undefined) {
    const waUrl = (webApp as { url?: unknown } | null)?.url
    if (typeof waUrl !== 'string' || !isHttpsUrl(waUrl)) {
      throw ApiFailure.badRequest(`inline keyboard button Web App URL '${String(waUrl)}' is invalid: Only HTTPS links are allowed`)
    }
  }
  // Canonical key order: text first, then the rest sorted, so comparisons are order-insensitive.
  const out: InlineKeyboardButton = { text }
  for (const key of Object.keys(button)
    .filter((k) => k !== 'text')
    .sort()) {
    if (button[key] !== undefined) out[key] = button[key]
  }
  return out
}

function isAllowedButtonUrl(url: string): boolean {
  if (/^tg:\/\/\S+$/i.test(url)) return true
  // Telegram accepts scheme-less links ("example.com") and treats them as http.
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `http://${url}`
  try {
    const parsed = new URL(withScheme)
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname.includes('.')
  } catch {
    return false
  }
}

function isHttpsUrl(url: string): boolean {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' && parsed.hostname !== ''
  } catch {
    return false
  }
}

export function sameMarkup(a: InlineKeyboardMarkup | undefined, b: InlineKeyboardMarkup | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
}
