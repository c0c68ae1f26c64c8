// The admin's JSON calls to the server's /api, shared by the state classes
// of spaces, members, invites and the bot. Every answer comes back as a
// value (never thrown): ok with its body, or the server's `{error, message}`
// turned into a sentence a person can act on. The token is asked for at
// each call, so a refreshed one is used as soon as it exists.

export interface ApiOptions {
  /** The current access token (null: call without Authorization, e.g. an invite page logged out). */
  token: () => string | null
  fetch?: typeof fetch
}

/** A refusal's `body`: the server's whole answer, for errors that carry more than a message (an import's `problems`). */
export type ApiResult<T> = { ok: true; status: number; body: T } | { ok: false; status: number; error: string; message: string; body?: unknown }

/** What the user reads for the server's error codes (the server's own message otherwise). */
const ERROR_TEXTS: Record<string, string> = {
  network: 'Cannot reach the server. Check your connection and try again.',
  'invalid-space': 'A space id is 1–63 characters: lowercase letters, digits, _ and -, starting with a letter or digit.',
  'space-exists': 'A space with this id already exists. Choose another id.',
  'unknown-space': 'This space does not exist (it may have been deleted).',
  'forbidden-space': 'You are not a member of this space.',
  'not-an-owner': 'Only an owner of this space can do that.',
  'last-owner': 'A space needs at least one owner: make someone else an owner first.',
  'already-member': 'This person is already a member of the space.',
  'invite-not-found': 'This link is not valid. Check that you copied all of it, or ask for a new one.',
  'invite-expired': 'This link has expired. Ask an owner of the space for a new one.',
  'invite-used': 'This link has already been used. Ask an owner of the space for a new one if you still need it.',
  'not-found': 'It no longer exists: someone may have removed it meanwhile.',
  'read-only': 'This space is read-only for you.',
  'body-too-large': 'The file is too large: at most 5 MB.',
  'invalid-json': 'The file is not JSON.',
  'space-deleting': 'This space is being deleted: restore it first.',
}

/** Codes whose server message is more useful than a fixed sentence (it carries the detail). */
const SERVER_MESSAGE_FIRST = new Set(['telegram-refused', 'invalid-request', 'invalid-email', 'invalid-password', 'invalid-role'])

export function errorText(error: string, message = ''): string {
  if (SERVER_MESSAGE_FIRST.has(error) && message) return message
  return ERROR_TEXTS[error] ?? (message || `The server refused the request (${error}).`)
}

export class ApiClient {
  readonly #token: () => string | null
  readonly #fetch: typeof fetch

  constructor(options: ApiOptions) {
    this.#token = options.token
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  }

  get<T>(path: string): Promise<ApiResult<T>> {
    return this.request<T>('GET', path)
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<ApiResult<T>> {
    const headers: Record<string, string> = {}
    const token = this.#token()
    if (token) headers.authorization = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await this.#fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    } catch {
      return { ok: false, status: 0, error: 'network', message: errorText('network') }
    }
    const json = response.status === 204 ? null : ((await response.json().catch(() => null)) as unknown)
    if (response.ok) return { ok: true, status: response.status, body: json as T }
    const value = (json && typeof json === 'object' ? json : {}) as { error?: unknown; message?: unknown }
    if (typeof value.error !== 'string')
      return { ok: false, status: response.status, error: `http-${response.status}`, message: `The server answered with an error (HTTP ${response.status}). Try again.` }
    return { ok: false, status: response.status, error: value.error, message: errorText(value.error, typeof value.message === 'string' ? value.message : ''), body: json }
  }

  /** Bytes rather than JSON (media for the preview): an `<img>` cannot send the bearer token itself. */
  async blob(path: string): Promise<{ ok: true; blob: Blob } | { ok: false; status: number }> {
    const token = this.#token()
    try {
      const response = await this.#fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} })
      if (!response.ok) return { ok: false, status: response.status }
      return { ok: true, blob: await response.blob() }
    } catch {
      return { ok: false, status: 0 }
    }
  }
}

/** Encodes one path segment (a space id, a user id, a token). */
export function segment(value: string | number): string {
  return encodeURIComponent(String(value))
}
