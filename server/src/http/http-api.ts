import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Extension, onRequestPayload, onUpgradePayload } from '@hocuspocus/server'
import type { Database, DocumentStore } from '@botsync/persistence'
import { isValidSpace } from '@botsync/shared-docs'
import { AccessDenied } from '../auth/roles.ts'
import type { Authenticator } from '../auth/authenticator.ts'
import type { LoginLimiter } from '../auth/login-limiter.ts'
import type { TokenIssuer } from '../auth/token-issuer.ts'
import { normaliseEmail, type User, type UserRepository } from '../auth/user-repository.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import { activityEndpoint, type RecordActivity } from './activity-endpoint.ts'
import type { ConnectionLimits } from './connection-limits.ts'
import { HttpError, isClientAbort, readJson, requestToken, sendJson } from './respond.ts'
import { setCommonHeaders, setPageHeaders } from './security-headers.ts'
import { StaticFiles } from './static-files.ts'
import type { RedisConnection } from '../redis/redis-connection.ts'
import { READERS_PATH, type ReaderGateway } from '../readers/reader-gateway.ts'
import { identifyReader } from '../readers/reader-identity.ts'
import { METRICS_PATH } from '../prometheus.ts'
import type { BotSupervisor } from '../bots/bot-supervisor.ts'
import type { SpaceBots } from '../bots/space-bots.ts'
import { BotRoutes, SPACE_BOT_PATH } from './bot-routes.ts'

export const COLLAB_PATH = '/collab'

/** 429 with Retry-After: a login refused before its password was even checked. */
class TooManyAttempts extends Error {
  readonly retryAfter: number
  constructor(retryAfter: number) {
    super(`too many failed logins; try again in ${retryAfter} s`)
    this.retryAfter = retryAfter
  }
}
/** Loaded documents listed on /health (the longest logs); the rest are counted. */
const HEALTH_DOCUMENTS = 50

export interface HttpApiDeps {
  db: Database
  users: UserRepository
  tokens: TokenIssuer
  authenticator: Authenticator
  /** Counts failed logins per address and per account (POST /api/login answers 429 past the limits). */
  loginLimiter: LoginLimiter
  metrics: Metrics
  log: Logger
  instanceId: string
  /** The built admin (admin-svelte/dist), served at `/`; omitted: not served. */
  adminDir?: string
  /** Applies the bot's activity reports (POST /api/activity). */
  recordActivity: RecordActivity
  /** Null when REDIS_URL is not set (single instance). */
  redis: RedisConnection | null
  /** Log figures of loaded documents, load/compaction timings. */
  store: DocumentStore
  /** Mini App readers' WebSocket endpoint (READERS_PATH). */
  readers: ReaderGateway
  /** Per-address and pre-authentication socket limits (/collab here; /readers in the gateway). */
  limits: ConnectionLimits
  isStopping: () => boolean
  /** The space bots: their status (/health, GET /api/spaces/:space/bot) and the bootstrap bot's webhook. */
  bots: BotSupervisor
  /** The space_bots table (PUT/DELETE /api/spaces/:space/bot). */
  spaceBots: SpaceBots
  /** The path of TELEGRAM_WEBHOOK_URL: POSTs there go to the bot's webhook receiver. */
  telegramWebhookPath?: string
  /** GET /metrics on this port (METRICS_TOKEN without METRICS_PORT); omitted: /metrics is 404 here. */
  metricsEndpoint?: (request: IncomingMessage, response: ServerResponse) => Promise<void>
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>

/** The HTTP side of the one port: /health and the JSON API under /api. */
export class HttpApi implements Extension {
  extensionName = 'botsync-http-api'
  private readonly deps: HttpApiDeps
  private readonly routes: Record<string, Handler>
  /** Methods per route path, for 405's Allow header. */
  private readonly methods = new Map<string, string[]>()
  private readonly admin: StaticFiles | null
  /** MERGE: /api/spaces/:space/bot, matched by SPACE_BOT_PATH until the route table takes path parameters. */
  private readonly botRoutes: BotRoutes

  constructor(deps: HttpApiDeps) {
    this.deps = deps
    this.botRoutes = new BotRoutes({ authenticator: deps.authenticator, spaceBots: deps.spaceBots, bots: deps.bots, log: deps.log })
    this.admin = deps.adminDir ? new StaticFiles(deps.adminDir) : null
    this.routes = {
      'GET /health': this.health,
      'POST /api/login': this.login,
      'POST /api/refresh': this.refresh,
      'GET /api/me': this.me,
      'GET /api/miniapp/me': this.miniAppMe,
      'POST /api/activity': activityEndpoint(deps.authenticator, deps.recordActivity),
      ...(deps.telegramWebhookPath ? { [`POST ${deps.telegramWebhookPath}`]: this.telegramWebhook } : {}),
      ...(deps.metricsEndpoint ? { [`GET ${METRICS_PATH}`]: deps.metricsEndpoint } : {}),
    }
    for (const route of Object.keys(this.routes)) {
      const [method, path] = route.split(' ')
      this.methods.set(path, [...(this.methods.get(path) ?? []), method])
    }
  }

  /** /collab upgrades to a Hocuspocus connection, /readers to the reader gateway; nothing else does. */
  async onUpgrade({ request, socket, head }: onUpgradePayload): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    if (path === COLLAB_PATH && !this.deps.isStopping()) {
      // Refused (429/503, answered): no upgrade. Admitted: Hocuspocus takes it.
      if (this.deps.limits.admitUntilClose(request, socket, head) === null) throw null
      return
    }
    if (path === READERS_PATH && !this.deps.isStopping()) {
      this.deps.readers.handleUpgrade(request, socket, head)
      throw null
    }
    const status = path === COLLAB_PATH || path === READERS_PATH ? '503 Service Unavailable' : '404 Not Found'
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    // An empty rejection stops Hocuspocus from upgrading, without logging.
    throw null
  }

  /**
   * Every request is answered here, so Hocuspocus' own answer ("Welcome to
   * Hocuspocus!", 200 to any method on any path) is never sent: API routes,
   * 405 with Allow for a method a path does not take, 426 for the WebSocket
   * paths without an upgrade, and the admin's files for GET/HEAD elsewhere.
   */
  async onRequest({ request, response }: onRequestPayload): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    const method = request.method ?? 'GET'
    setCommonHeaders(response)
    try {
      const handler = this.routes[`${method} ${path}`]
      const botSpace = SPACE_BOT_PATH.exec(path)?.[1]
      if (handler) await handler(request, response)
      else if (botSpace !== undefined) {
        const botHandler = method === 'GET' ? this.botRoutes.get : method === 'PUT' ? this.botRoutes.put : method === 'DELETE' ? this.botRoutes.delete : undefined
        if (!botHandler) throw this.methodNotAllowed(response, method, path, ['GET', 'PUT', 'DELETE'])
        await botHandler(request, response, botSpace)
      } else if (this.methods.has(path)) throw this.methodNotAllowed(response, method, path, this.methods.get(path)!)
      else if (path === COLLAB_PATH || path === READERS_PATH) {
        if (method !== 'GET') throw this.methodNotAllowed(response, method, path, ['GET'])
        response.setHeader('upgrade', 'websocket')
        response.setHeader('connection', 'Upgrade')
        throw new HttpError(426, 'upgrade-required', `${path} is a WebSocket endpoint`)
      } else if (path.startsWith('/api/') || path === METRICS_PATH) throw new HttpError(404, 'not-found', `no route ${method} ${path}`)
      else if (method !== 'GET' && method !== 'HEAD') throw this.methodNotAllowed(response, method, path, ['GET', 'HEAD'])
      else if (!this.admin) throw new HttpError(404, 'not-found', 'the admin is not served here')
      else {
        setPageHeaders(request, response, path)
        await this.admin.serve(request, response)
      }
    } catch (error) {
      if (error instanceof TooManyAttempts) {
        response.setHeader('retry-after', String(error.retryAfter))
        sendJson(response, 429, { error: 'too-many-attempts', message: error.message, retryAfter: error.retryAfter })
      } else if (error instanceof HttpError) {
        sendJson(response, error.status, { error: error.code, message: error.message })
      } else if (error instanceof AccessDenied) {
        sendJson(response, 401, { error: error.reason, message: error.message })
      } else if (isClientAbort(request, error)) {
        this.deps.log.debug({ event: 'request-aborted', method, path })
        response.destroy()
      } else {
        this.deps.log.error({ event: 'http-error', method, path, err: error }, 'request failed')
        if (!response.headersSent) sendJson(response, 500, { error: 'internal', message: 'internal error' })
        else response.destroy()
      }
    }
    throw null
  }

  private methodNotAllowed(response: ServerResponse, method: string, path: string, allowed: string[]): HttpError {
    response.setHeader('allow', allowed.join(', '))
    return new HttpError(405, 'method-not-allowed', `${path} does not take ${method.slice(0, 20)}`)
  }

  /**
   * 200 `ok`; 200 `degraded` when Redis is down (this instance still serves
   * its clients and saves everything, so a load balancer should keep routing
   * to it); 503 `down` without the database (nothing can be saved) and 503
   * `stopping` during shutdown (route new clients elsewhere).
   */
  private health: Handler = async (_request, response) => {
    const checks: Record<string, { status: 'ok' | 'down'; detail?: string }> = {}
    let quarantinedTotal: number | null = null
    try {
      // The database check and the quarantine count in one round trip (the table is small: rows land there only by accident).
      const [row] = await this.deps.db.query<{ quarantined: number }>('SELECT (SELECT count(*) FROM quarantined_updates)::int AS quarantined')
      quarantinedTotal = row.quarantined
      checks.database = { status: 'ok', detail: this.deps.db.kind }
    } catch (error) {
      checks.database = { status: 'down', detail: error instanceof Error ? error.message : String(error) }
    }
    if (this.deps.redis) checks.redis = this.deps.redis.health()
    const bots = this.deps.bots.statuses()
    const status = this.deps.isStopping() ? 'stopping' : checks.database.status === 'down' ? 'down' : checks.redis?.status === 'down' ? 'degraded' : 'ok'
    sendJson(response, status === 'ok' || status === 'degraded' ? 200 : 503, {
      status,
      instance: this.deps.instanceId,
      checks,
      appendLatencyMs: this.deps.metrics.appendLatency(),
      refusedUpdates: { ...this.deps.metrics.refusedUpdates, rateLimitClosures: this.deps.metrics.rateLimitClosures },
      readers: { open: this.deps.readers.readers, ...this.deps.metrics.readers },
      storage: this.storage(quarantinedTotal),
      connections: { pending: this.deps.limits.pending, ...this.deps.metrics.connections },
      ...(this.deps.redis ? { fanout: this.deps.metrics.fanout } : {}),
      // Per space: starting / connected / failing (with Telegram's error) / stopped, its @username and role here.
      ...(Object.keys(bots).length > 0 ? { bot: bots } : {}),
    })
  }

  /**
   * Telegram's webhook (TELEGRAM_WEBHOOK_URL): the secret token first (401,
   * compared in constant time), then the size (413), then the body (400);
   * 200 only once the update is committed to the inbox, so anything else
   * makes Telegram deliver it again, to this instance or another.
   */
  private telegramWebhook: Handler = async (request, response) => {
    const receiver = this.deps.bots.webhook()
    if (!receiver) throw new HttpError(503, 'bot-not-ready', 'the bot is not running in webhook mode (yet)')
    const given = request.headers['x-telegram-bot-api-secret-token']
    if (!receiver.checkSecret(typeof given === 'string' ? given : undefined)) {
      throw new HttpError(401, 'wrong-secret-token', 'X-Telegram-Bot-Api-Secret-Token does not match the webhook secret')
    }
    const tooLarge = new HttpError(413, 'body-too-large', `the body exceeds ${receiver.maxBytes} bytes`)
    if (Number(request.headers['content-length']) > receiver.maxBytes) throw tooLarge
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of request) {
      size += (chunk as Buffer).length
      if (size > receiver.maxBytes) throw tooLarge
      chunks.push(chunk as Buffer)
    }
    const outcome = await receiver.receive(Buffer.concat(chunks))
    if (outcome.status !== 200) throw new HttpError(outcome.status, outcome.error, outcome.message)
    sendJson(response, 200, { ok: true })
  }

  /**
   * Update-log figures: per loaded document (the longest logs first, at most
   * HEALTH_DOCUMENTS of them), quarantined rows (in the table, from every
   * instance; and found by this process) and time spent in loads and
   * compactions.
   */
  private storage(quarantinedTotal: number | null) {
    const { store } = this.deps
    const logs = store.loadedLogs()
    const round = (ms: number) => Math.round(ms * 10) / 10
    const timing = (t: { count: number; totalMs: number; maxMs: number }) => ({ count: t.count, totalMs: round(t.totalMs), maxMs: round(t.maxMs) })
    return {
      quarantined: { total: quarantinedTotal, thisInstance: store.quarantined },
      loads: timing(store.timings.loads),
      compactions: timing(store.timings.compactions),
      loadedDocuments: logs.length,
      documents: logs.slice(0, HEALTH_DOCUMENTS).map((log) => ({ ...log, loadMs: round(log.loadMs) })),
    }
  }

  private login: Handler = async (request, response) => {
    const body = (await readJson(request, 16 * 1024)) as { email?: unknown; password?: unknown } | null
    if (typeof body?.email !== 'string' || typeof body.password !== 'string') {
      throw new HttpError(400, 'invalid-request', 'send {"email": string, "password": string}')
    }
    const address = this.deps.limits.clientAddress(request)
    // The same key for existing and unknown emails: the limiter must not tell them apart.
    const account = normaliseEmail(body.email).slice(0, 320)
    const waitSeconds = await this.deps.loginLimiter.retryAfter(address, account)
    if (waitSeconds > 0) {
      this.deps.log.info({ event: 'login-limited', email: account.slice(0, 200), address, retryAfter: waitSeconds })
      throw new TooManyAttempts(waitSeconds)
    }
    const user = await this.deps.users.authenticate(body.email, body.password)
    if (!user) {
      const retryAfter = await this.deps.loginLimiter.failed(address, account)
      this.deps.log.info({ event: 'login-refused', email: account.slice(0, 200), address, ...(retryAfter ? { retryAfter } : {}) })
      throw new HttpError(401, 'invalid-credentials', 'wrong email or password')
    }
    await this.deps.loginLimiter.succeeded(account)
    sendJson(response, 200, await this.session(user))
  }

  /**
   * A new token for a still-valid one, so an admin's session continues
   * without a password; the user is re-read, so a deleted user gets 401 and
   * a demoted one a token with the lower role.
   */
  private refresh: Handler = async (request, response) => {
    const principal = await this.deps.authenticator.identify(requestToken(request))
    if (principal.kind !== 'admin') throw new HttpError(403, 'not-an-admin', 'only admin session tokens can be refreshed')
    sendJson(response, 200, await this.session({ id: principal.userId, email: principal.email, name: principal.name, role: principal.role }))
  }

  private async session(user: User): Promise<{ token: string; expiresAt: number; user: User }> {
    const { token, expiresAt } = await this.deps.tokens.issue({ userId: user.id, email: user.email, name: user.name, role: user.role })
    return { token, expiresAt, user }
  }

  /** Who the token belongs to now: admins are re-read from the database (401 `user-not-found` once deleted). */
  private me: Handler = async (request, response) => {
    const principal = await this.deps.authenticator.identify(requestToken(request))
    sendJson(response, 200, { principal })
  }

  /** `Authorization: tma <initData>`: who the reader is and the one document they may read. */
  private miniAppMe: Handler = async (request, response) => {
    const space = new URL(request.url ?? '/', 'http://localhost').searchParams.get('space') || undefined
    if (space !== undefined && !isValidSpace(space)) throw new HttpError(400, 'invalid-space', 'space must be a space name ([a-z0-9][a-z0-9_-]*)')
    const reader = await identifyReader(this.deps.authenticator, requestToken(request), space)
    if (!reader) throw new HttpError(403, 'not-a-reader', 'send Authorization: tma <initData>')
    sendJson(response, 200, reader)
  }
}
