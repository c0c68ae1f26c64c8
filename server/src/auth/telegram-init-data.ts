import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'
import { AccessDenied } from './roles.ts'

/** The Telegram user a valid initData was issued to. */
export interface TelegramReader {
  userId: number
  firstName: string
  username?: string
  authDate: number
}

/**
 * Validates a Telegram Mini App's launch data (`initData`) as documented at
 * https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app:
 * the data-check-string is every `key=value` except `hash`, sorted by key and
 * joined by "\n"; its HMAC-SHA256 under the secret HMAC_SHA256("WebAppData",
 * botToken) must equal `hash`. Hand-written because it is a few lines over
 * node:crypto, and the npm packages for it (e.g. @telegram-apps/init-data-node)
 * bring a whole SDK for these few lines.
 */
export class TelegramInitData {
  private readonly secret: KeyObject
  private readonly maxAgeSeconds: number

  constructor(botToken: string, maxAgeSeconds: number) {
    if (!botToken) throw new Error('TelegramInitData needs the bot token')
    // A KeyObject, made once: createHmac turns a Buffer key into one on every
    // call, 3-5x the cost of the HMAC itself (every connecting reader pays it).
    this.secret = createSecretKey(createHmac('sha256', 'WebAppData').update(botToken).digest())
    this.maxAgeSeconds = maxAgeSeconds
  }

  /** Returns the reader or throws AccessDenied with a clear `init-data-*` reason. */
  validate(raw: string, nowSeconds = Math.floor(Date.now() / 1000)): TelegramReader {
    const params = new URLSearchParams(raw)
    const hash = params.get('hash')
    if (!hash) throw new AccessDenied('init-data-missing-hash', 'the initData has no hash')
    const lines: string[] = []
    for (const [key, value] of params) if (key !== 'hash') lines.push(`${key}=${value}`)
    // Sorted by key as Telegram does; keys are unique, so sorting the lines is the same.
    lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const expected = createHmac('sha256', this.secret).update(lines.join('\n')).digest()
    const given = /^[0-9a-f]{64}$/i.test(hash) ? Buffer.from(hash, 'hex') : null
    // timingSafeEqual needs equal lengths; a malformed hash is refused without comparing.
    if (!given || !timingSafeEqual(given, expected)) {
      throw new AccessDenied('init-data-invalid-signature', 'the initData signature does not match this bot')
    }
    const authDate = Number(params.get('auth_date'))
    if (!Number.isInteger(authDate) || authDate <= 0) {
      throw new AccessDenied('init-data-invalid', 'the initData has no valid auth_date')
    }
    if (nowSeconds - authDate > this.maxAgeSeconds) {
      throw new AccessDenied('init-data-expired', `the initData is older than ${this.maxAgeSeconds} seconds`)
    }
    return { ...parseUser(params.get('user')), authDate }
  }
}

function parseUser(json: string | null): Omit<TelegramReader, 'authDate'> {
  let user: unknown
  try {
    user = json ? JSON.parse(json) : null
  } catch {
    throw new AccessDenied('init-data-invalid', 'the initData user is not JSON')
  }
  const { id, first_name: firstName, username } = (user ?? {}) as { id?: unknown; first_name?: unknown; username?: unknown }
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new AccessDenied('init-data-invalid', 'the initData has no user id')
  return {
    userId: id,
    firstName: typeof firstName === 'string' ? firstName : '',
    ...(typeof username === 'string' ? { username } : {}),
  }
}

/**
 * Whether a connection token is Mini App launch data rather than a JWT or the
 * bot's service token: either `tma <initData>` or raw initData, which always
 * holds `auth_date=` and `hash=` (a JWT is base64url and dots, no `=`/`&`).
 */
export function initDataFromToken(token: string): string | null {
  if (token.startsWith('tma ')) return token.slice(4).trim()
  return /(^|&)hash=/.test(token) && /(^|&)auth_date=/.test(token) ? token : null
}
