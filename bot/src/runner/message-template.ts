import { LIMITS } from '@botsync/shared-docs'

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]{0,31})\}/g

/**
 * Fills `{name}` placeholders from the user's answers. A placeholder without
 * an answer stays as written, so an admin sees the mistake instead of a
 * silently missing word. The result is cut to Telegram's message limit.
 */
export function fillTemplate(text: string, vars: Readonly<Record<string, string>>): string {
  const filled = text.replace(PLACEHOLDER, (match, name: string) => (Object.hasOwn(vars, name) ? vars[name] : match))
  return filled.length > LIMITS.messageText ? `${filled.slice(0, LIMITS.messageText - 1)}…` : filled
}
