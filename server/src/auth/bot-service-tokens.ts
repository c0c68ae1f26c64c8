import { createHmac } from 'node:crypto'

const PREFIX = 'bot.'

/**
 * The /collab token of one space's supervised bot: `bot.<space>.<base64url
 * HMAC-SHA256(BOT_SERVICE_TOKEN, space)>`. Derived, not stored: every
 * instance computes the same one, and it grants read-only access to that
 * space only (Authenticator). The raw BOT_SERVICE_TOKEN still means BOT_SPACE
 * (a stand-alone bot).
 */
export function spaceServiceToken(serviceToken: string, space: string): string {
  return `${PREFIX}${space}.${spaceServiceMac(serviceToken, space)}`
}

export function spaceServiceMac(serviceToken: string, space: string): string {
  return createHmac('sha256', serviceToken).update(`botsync-space-bot\n${space}`).digest('base64url')
}

/** The space a `bot.<space>.<mac>` token claims, and its mac; null for any other token. Space names hold no dot. */
export function parseSpaceServiceToken(token: string): { space: string; mac: string } | null {
  if (!token.startsWith(PREFIX)) return null
  const rest = token.slice(PREFIX.length)
  const dot = rest.indexOf('.')
  if (dot <= 0) return null
  return { space: rest.slice(0, dot), mac: rest.slice(dot + 1) }
}
