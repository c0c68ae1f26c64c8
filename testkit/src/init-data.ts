import { createHmac } from 'node:crypto'

/**
 * Telegram's initData signing, as the Bot API does it, so tests can launch a
 * Mini App for a given bot token: fields + `hash` = HMAC_SHA256(secret,
 * sorted key=value lines), secret = HMAC_SHA256("WebAppData", botToken).
 */
export function signInitData(botToken: string, fields: { user?: Record<string, unknown>; auth_date?: number; [key: string]: unknown } = {}): string {
  const values: Record<string, string> = {
    auth_date: String(fields.auth_date ?? Math.floor(Date.now() / 1000)),
    query_id: 'AAH' + Math.random().toString(36).slice(2),
    user: JSON.stringify(fields.user ?? { id: 4242, first_name: 'Rita', username: 'rita' }),
  }
  for (const [key, value] of Object.entries(fields)) {
    if (key !== 'user' && key !== 'auth_date') values[key] = String(value)
  }
  const checkString = Object.keys(values)
    .sort()
    .map((key) => `${key}=${values[key]}`)
    .join('\n')
  const secret = createHmac('sha256', 'WebAppData').update(botToken).digest()
  const hash = createHmac('sha256', secret).update(checkString).digest('hex')
  return new URLSearchParams({ ...values, hash }).toString()
}
