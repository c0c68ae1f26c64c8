import { LIMITS, callbackDataFor, type ButtonJson, type KeyboardKind } from '@botsync/shared-docs'
import type { InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup } from 'telegraf/types'
import type { SpaceContent } from './space-content.ts'

export type Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup

/**
 * Telegram markup for rows of button ids. Buttons that are missing or fail
 * validation are left out (so is a web_app button naming a page of the bot's
 * Mini App when there is no MINIAPP_URL to resolve it against); rows longer
 * than Telegram allows are wrapped and an inline keyboard stops at 100
 * buttons, so the message is always accepted. Inline buttons carry
 * `b:<buttonId>` — a stable id, never the label.
 */
export function renderKeyboard(content: SpaceContent, rows: readonly (readonly string[])[], kind: KeyboardKind): Markup | undefined {
  const buttons = rows.map((row) => row.map((id) => content.button(id)).filter((b): b is ButtonJson => b !== null))
  if (kind === 'inline') {
    let budget = LIMITS.inlineButtonsTotal
    const inline: InlineKeyboardButton[][] = []
    for (const row of buttons) {
      const rendered = row
        .map((button) => inlineButton(content, button))
        .filter((b): b is InlineKeyboardButton => b !== null)
        .slice(0, Math.max(0, budget))
      budget -= rendered.length
      inline.push(...chunk(rendered, LIMITS.inlineButtonsPerRow))
    }
    return inline.length > 0 ? { inline_keyboard: inline } : undefined
  }
  const reply: KeyboardButton[][] = []
  for (const row of buttons) {
    const rendered = row.map((button) => replyButton(content, button)).filter((b): b is KeyboardButton => b !== null)
    reply.push(...chunk(rendered, LIMITS.replyButtonsPerRow))
  }
  // one_time: the keyboard folds away once used, instead of lingering under later steps.
  return reply.length > 0 ? { keyboard: reply, resize_keyboard: true, one_time_keyboard: true } : undefined
}

/** The usable button of a reply keyboard whose label the user sent. */
export function replyButtonByLabel(content: SpaceContent, rows: readonly (readonly string[])[], label: string): ButtonJson | null {
  for (const row of rows) {
    for (const id of row) {
      const button = content.button(id)
      if (button && button.text === label && button.action?.type !== 'url') return button
    }
  }
  return null
}

export function isInline(markup: Markup | undefined): markup is InlineKeyboardMarkup | undefined {
  return markup === undefined || 'inline_keyboard' in markup
}

function inlineButton(content: SpaceContent, button: ButtonJson): InlineKeyboardButton | null {
  switch (button.action?.type) {
    case 'url':
      return { text: button.text, url: button.action.url }
    case 'web_app':
      return webAppButton(content, button.text, button.action.url)
    case undefined:
      return null
    default:
      return { text: button.text, callback_data: callbackDataFor(button.id) }
  }
}

function replyButton(content: SpaceContent, button: ButtonJson): KeyboardButton | null {
  switch (button.action?.type) {
    case 'url': // not possible in a reply keyboard (validation says so too)
    case undefined:
      return null
    case 'web_app':
      return webAppButton(content, button.text, button.action.url)
    default:
      return { text: button.text }
  }
}

/** Telegram takes absolute URLs only: a page of the bot's own Mini App is resolved against MINIAPP_URL. */
function webAppButton(content: SpaceContent, text: string, url: string): { text: string; web_app: { url: string } } | null {
  const resolved = content.webAppUrl(url)
  return resolved === null ? null : { text, web_app: { url: resolved } }
}

function chunk<T>(items: T[], size: number): T[][] {
  const rows: T[][] = []
  for (let i = 0; i < items.length; i += size) rows.push(items.slice(i, i + size))
  return rows
}
