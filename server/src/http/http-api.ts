import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Extension, onRequestPayload, onUpgradePayload } from '@hocuspocus/server'
import type { Database, DocumentStore } from '@botsync/persistence'
import { isValidSpace } from '@botsync/shared-docs'
import { AccessDenied, Conflict } from '../auth/roles.ts'
import { InviteUnusable } from '../auth/invites.ts'
import type { User } from '../auth/user-repository.ts'
import type { Metrics } from '../metrics.ts'
import { activityEndpoint, type RecordActivity } from './activity-endpoint.ts'
import type { ConnectionLimits } from './connection-limits.ts'
import { HttpError, isClientAbort, requestToken, sendJson } from './respond.ts'
import { TooManyAttempts, type SessionRoutes } from './session-routes.ts'
import { setCommonHeaders, setPageHeaders } from './security-headers.ts'
import { StaticFiles } from './static-files.ts'
import { spaceRoutes, type SpaceApiDeps } from './space-routes.ts'
import { memberRoutes } from './member-routes.ts'
import { inviteRoutes } from './invite-routes.ts'
import type { RedisLink } from '../redis/redis-link.ts'
import { READERS_PATH, type ReaderGateway } from '../readers/reader-gateway.ts'
import { identifyReader } from '../readers/reader-identity.ts'
import { miniAppBotRoute } from '../readers/miniapp-bot.ts'
import { METRICS_PATH } from '../prometheus.ts'
import type { BotSupervisor } from '../bots/bot-supervisor.ts'
import type { SpaceBots } from '../bots/space-bots.ts'
import { BotRoutes } from './bot-routes.ts'
import { exportRoutes } from './export-routes.ts'
import { versionRoutes } from './version-routes.ts'
import { simulatorRoutes } from './simulator-routes.ts'
import type { SimulatorSessions } from '../simulator/simulator-sessions.ts'
import type { ReleasePublisher } from '../versions/release-publisher.ts'
import type { VersionStore } from '../versions/version-store.ts'
import type { VersionChanges } from '../versions/version-changes.ts'
import type { VersionRestorer } from '../versions/version-restorer.ts'
import type { ServerWriter } from '../server-writer.ts'
import { mediaRoutes, type MediaRoutesDeps } from './media-routes.ts'

export const COLLAB_PATH = '/collab'

/** Loaded documents listed on /health (the longest logs); the rest are counted. */
const HEALTH_DOCUMENTS = 50

/** The spaces, members and invites routes' needs (space-routes.ts), except the session part, which HttpApi builds from sessionRoutes. */
export interface HttpApiDeps extends Omit<SpaceApiDeps, 'session' | 'endSessions'> {
  db: Database
  /** POST /api/login, /api/refresh, /api/logout, /api/logout-all, GET /api/me. */
  sessionRoutes: SessionRoutes
  metrics: Metrics
  instanceId: string
  /** The built admin (admin-svelte/dist), served at `/`; omitted: not served. */
  adminDir?: string
  /** Applies the bot's activity reports (POST /api/activity). */
  recordActivity: RecordActivity
  /** Null when REDIS_URL is not set (single instance). */
  redis: RedisLink | null
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
  /** BOT_SPACE: the space of a Mini App page without ?space= (GET /api/miniapp/bot). */
  botSpace: string
  /** The path of TELEGRAM_WEBHOOK_URL: POSTs there go to the bot's webhook receiver. */
  telegramWebhookPath?: string
  /** The server's own document reads and writes (GET /api/spaces/:space/export, POST …/import). */
  writer: Pick<ServerWriter, 'read' | 'change'>
  /** Releases and checkpoints of a space (GET …/versions). */
  versions: VersionStore
  /** Publishing and the publish mode (POST …/releases, PUT …/publish-mode, GET …/publish-status). */
  publisher: ReleasePublisher
  /** The change list between versions (GET …/versions/:id/changes). */
  versionChanges: VersionChanges
  /** Restoring a version into the drafts (POST …/versions/:id/restore) and a version's export. */
  versionRestorer: VersionRestorer
  /** The chat simulator's conversations (POST /api/spaces/:space/simulator, …). */
  simulator: SimulatorSessions
  /** The largest import body (bytes); shared-docs' SPACE_IMPORT_MAX_BYTES unless given. */
  maxImportBytes?: number
  /** Uploaded files (POST/GET /api/spaces/:space/media…). */
  media: Omit<MediaRoutesDeps, 'authenticator'>
  /** GET /metrics on this port (METRICS_TOKEN without METRICS_PORT); omitted: /metrics is 404 here. */
  metricsEndpoint?: (request: IncomingMessage, response: ServerResponse) => Promise<void>
}

/** A route's handler; `params` holds the path's `:name` segments (decoded). */
export type Handler = (request: IncomingMessage, response: ServerResponse, params: Record<string, string>) => Promise<void>

/** A route with `:name` segments, e.g. `/api/spaces/:space/members/:userId`: a segment matches one non-empty path segment. */
interface ParamRoute {
  method: string
  pattern: string
  regex: RegExp
  keys: string[]
  handler: Handler
}

function compileRoute(method: string, pattern: string, handler: Handler): ParamRoute {
  const keys: string[] = []
  const source = pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      keys.push(segment.slice(1))
      return '([^/]+)'
    })
    .join('/')
  return { method, pattern, regex: new RegExp(`^${source}$`), keys, handler }
}

function matchParams(route: ParamRoute, path: string): Record<string, string> | null {
  const match = route.regex.exec(path)
  if (!match) return null
  const params: Record<string, string> = {}
  try {
    route.keys.forEach((key, index) => (params[key] = decodeURIComponent(match[index + 1])))
  } catch {
    return null
  }
  return params
}

/** HTTP status of an AccessDenied reason: 404 for a missing space, 403 for a lower role or another space, 401 otherwise (who you are). */
const ACCESS_DENIED_STATUS: Record<string, number> = {
  'unknown-space': 404,
  'forbidden-space': 403,
  'not-an-owner': 403,
  'read-only': 403,
  'not-an-admin': 403,
}

/** The HTTP side of the one port: /health and the JSON API under /api. */
export class HttpApi implements Extension {
  extensionName = 'botsync-http-api'
  private readonly deps: HttpApiDeps
  private readonly routes: Record<string, Handler>
  /** Routes with `:name` segments, tried in order after the exact ones. */
  private readonly paramRoutes: ParamRoute[] = []
  /** Methods per route path (exact paths), for 405's Allow header. */
  private readonly methods = new Map<string, string[]>()
  private readonly admin: StaticFiles | null

  constructor(deps: HttpApiDeps) {
    this.deps = deps
    const botRoutes = new BotRoutes({ authenticator: deps.authenticator, spaceBots: deps.spaceBots, bots: deps.bots, log: deps.log })
    this.admin = deps.adminDir ? new StaticFiles(deps.adminDir) : null
    const spaceDeps = {
      ...deps,
      session: (request: IncomingMessage, response: ServerResponse, user: User) => deps.sessionRoutes.startSession(request, response, user),
      endSessions: (userId: string) => deps.sessionRoutes.endAllSessions(userId),
    }
    const routes: Record<string, Handler> = {
      'GET /health': this.health,
      ...deps.sessionRoutes.routes,
      'GET /api/miniapp/me': this.miniAppMe,
      'GET /api/miniapp/bot': miniAppBotRoute({ spaceBots: deps.spaceBots, bots: deps.bots, botSpace: deps.botSpace }),
      'POST /api/activity': activityEndpoint(deps.authenticator, deps.recordActivity),
      ...(deps.telegramWebhookPath ? { [`POST ${deps.telegramWebhookPath}`]: this.telegramWebhook } : {}),
      ...(deps.metricsEndpoint ? { [`GET ${METRICS_PATH}`]: deps.metricsEndpoint } : {}),
      ...spaceRoutes(spaceDeps),
      ...memberRoutes(spaceDeps),
      ...inviteRoutes(spaceDeps),
      ...exportRoutes({
        authenticator: deps.authenticator,
        spaces: deps.spaces,
        writer: deps.writer,
        publisher: deps.publisher,
        log: deps.log,
        maxImportBytes: deps.maxImportBytes,
      }),
      ...versionRoutes({
        authenticator: deps.authenticator,
        versions: deps.versions,
        publisher: deps.publisher,
        changes: deps.versionChanges,
        restorer: deps.versionRestorer,
        spaces: deps.spaces,
      }),
      ...mediaRoutes({ authenticator: deps.authenticator, ...deps.media }),
      ...simulatorRoutes({ authenticator: deps.authenticator, sessions: deps.simulator, log: deps.log }),
      'GET /api/spaces/:space/bot': (request, response, { space }) => botRoutes.get(request, response, space),
      'PUT /api/spaces/:space/bot': (request, response, { space }) => botRoutes.put(request, response, space),
      'DELETE /api/spaces/:space/bot': (request, response, { space }) => botRoutes.delete(request, response, space),
    }
    this.routes = {}
    for (const [route, handler] of Object.entries(routes)) {
      const [method, path] = route.split(' ')
      if (path.includes('/:')) {
        this.paramRoutes.push(compileRoute(method, path, handler))
        continue
      }
      this.routes[route] = handler
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
      const handler = this.routes[`${method} ${path}`] as Handler | undefined
      const matched = handler ? null : this.matchParamRoute(method, path)
      if (handler) await handler(request, response, {})
      else if (matched?.route) await matched.route.handler(request, response, matched.params)
      else if (this.methods.has(path)) throw this.methodNotAllowed(response, method, path, this.methods.get(path)!)
      else if (matched?.allowed.length) throw this.methodNotAllowed(response, method, path, matched.allowed)
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
        sendJson(response, ACCESS_DENIED_STATUS[error.reason] ?? 401, { error: error.reason, message: error.message })
      } else if (error instanceof Conflict) {
        sendJson(response, 409, { error: error.code, message: error.message })
      } else if (error instanceof InviteUnusable) {
        sendJson(response, error.code === 'invite-not-found' ? 404 : 410, { error: error.code, message: error.message })
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

  /** The parameter route for this method and path, and the methods other routes of the path take (for 405). */
  private matchParamRoute(method: string, path: string): { route: ParamRoute | null; params: Record<string, string>; allowed: string[] } | null {
    if (!path.startsWith('/api/')) return null
    let found: { route: ParamRoute; params: Record<string, string> } | null = null
    const allowed: string[] = []
    for (const route of this.paramRoutes) {
      const params = matchParams(route, path)
      if (!params) continue
      if (route.method === method && !found) found = { route, params }
      allowed.push(route.method)
    }
    return { route: found?.route ?? null, params: found?.params ?? {}, allowed }
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
      broadcasts: this.deps.metrics.broadcasts,
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
      // Appends per commit: what group commit saves (one INSERT, one WAL flush per batch).
      groupCommit: { ...store.committer.stats },
      loadedDocuments: logs.length,
      documents: logs.slice(0, HEALTH_DOCUMENTS).map((log) => ({ ...log, loadMs: round(log.loadMs) })),
    }
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
