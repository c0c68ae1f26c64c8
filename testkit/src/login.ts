/** An admin JWT from a botsync server's POST /api/login. */
export async function login(baseUrl: string, email: string, password: string): Promise<string> {
  return (await loginSession(baseUrl, email, password)).token
}

/** A logged-in admin as a browser holds it: the access JWT and the refresh cookie (`botsync_refresh=…`, ready for a Cookie header). */
export interface TestSession {
  token: string
  expiresAt: number
  cookie: string
  /** The raw Set-Cookie header of the answer, for tests of its attributes. */
  setCookie: string
}

/** POST /api/login, keeping the refresh cookie. */
export async function loginSession(baseUrl: string, email: string, password: string, headers: Record<string, string> = {}): Promise<TestSession> {
  const response = await fetch(`${baseUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email, password }),
  })
  if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`)
  const body = (await response.json()) as { token: string; expiresAt: number }
  const setCookie = response.headers.get('set-cookie') ?? ''
  return { token: body.token, expiresAt: body.expiresAt, cookie: setCookie.split(';')[0], setCookie }
}

/** POST /api/refresh's body: the new access token, or a refusal. */
export interface RefreshAnswer {
  token?: string
  expiresAt?: number
  user?: { id: string; email: string; name: string }
  error?: string
  message?: string
}

/**
 * POST /api/refresh with a refresh cookie (and the admin's CSRF header), as
 * the admin sends it. `cookie` is the new cookie when the server set one.
 */
export async function refreshSession(
  baseUrl: string,
  cookie: string,
  headers: Record<string, string> = { 'x-botsync': '1' },
): Promise<{ status: number; body: RefreshAnswer; cookie: string | null; setCookie: string | null }> {
  const response = await fetch(`${baseUrl}/api/refresh`, { method: 'POST', headers: { cookie, ...headers } })
  const setCookie = response.headers.get('set-cookie')
  return { status: response.status, body: (await response.json()) as RefreshAnswer, cookie: setCookie ? setCookie.split(';')[0] : null, setCookie }
}
