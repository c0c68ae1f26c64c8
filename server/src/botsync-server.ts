import type { Server as HttpServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import { Server } from '@hocuspocus/server'
import { DocumentStore, openDatabase, StoredStateVectors, type Database, type StoreEvent } from '@botsync/persistence'
import { applyActivityEvents, docName } from '@botsync/shared-docs'
import { Authenticator } from './auth/authenticator.ts'
import { LoginLimiter } from './auth/login-limiter.ts'
import { PasswordHasher } from './auth/passwords.ts'
import { SecretBox } from './auth/secret-box.ts'
import { BotSupervisor } from './bots/bot-supervisor.ts'
import { SpaceBots } from './bots/space-bots.ts'
import { telegramGetMe } from './bots/telegram-get-me.ts'
import { TokenIssuer } from './auth/token-issuer.ts'
import { UserRepository } from './auth/user-repository.ts'
import type { ServerConfig } from './config.ts'
import { seedDemoSpace } from './demo-seed.ts'
import { extensionChain } from './extension-chain.ts'
import { Authorization } from './extensions/authorization.ts'
import { CatchUpAnswers } from './extensions/catch-up-answers.ts'
import { DurablePersistence } from './extensions/durable-persistence.ts'
import { PublicContent } from './readers/public-content.ts'
import { RedisFanout } from './extensions/redis-fanout.ts'
import { LiveAccess } from './extensions/live-access.ts'
import { ConnectionLimits } from './http/connection-limits.ts'
import { HttpApi } from './http/http-api.ts'
import { createLogger, type Logger } from './logger.ts'
import { Metrics } from './metrics.ts'
import { listenMetrics, portOf, PrometheusMetrics } from './prometheus.ts'
import { ReaderGateway } from './readers/reader-gateway.ts'
import { RedisConnection } from './redis/redis-connection.ts'
import { ServerWriter } from './server-writer.ts'

export interface StartedInfo {
  url: string
  port: number
  /** Set only when this start created the first owner with a generated password. */
  generatedAdmin?: { email: string; password: string }
}

/** Wires database, auth, persistence and HTTP into one Hocuspocus server on one port. */
export class BotsyncServer {
  readonly config: ServerConfig
  readonly log: Logger
  readonly db: Database
  readonly store: DocumentStore
  readonly users: UserRepository
  readonly tokens: TokenIssuer
  readonly writer: ServerWriter
  readonly metrics = new Metrics()
  readonly server: Server
  /** Set when REDIS_URL is: this instance shares documents with other instances. */
  readonly redis: RedisConnection | null = null
  readonly fanout: RedisFanout | null = null
  /**
   * Unique per process: INSTANCE_ID plus a random suffix, so even two
   * instances (mis)configured with the same INSTANCE_ID differ. Redis
   * fan-out ignores only its own echo by it, and it names this process's
   * parts of the activity counters (shared-docs activity.ts).
   */
  readonly nodeId: string
  /** Mini App readers (/readers): read-only sockets outside Hocuspocus' per-connection machinery. */
  readonly readers: ReaderGateway
  /** The space_bots table: each space's Telegram bot, its token sealed with SECRETS_KEY. */
  readonly spaceBots: SpaceBots
  /** Runs one embedded bot per space that has one (startEmbeddedBot runs them): /health, the webhook, Mini App tokens. */
  readonly bots: BotSupervisor
  /** Re-checks open admin connections on token expiry and user changes. */
  readonly liveAccess: LiveAccess
  /** Per-address and pre-authentication limits of /collab and /readers sockets. */
  readonly limits: ConnectionLimits
  /** /metrics' registry and the bot's observer. */
  readonly prometheus: PrometheusMetrics
  /** The METRICS_PORT listener (null: none). */
  metricsServer: HttpServer | null = null
  private stopping: Promise<void> | null = null

  private constructor(config: ServerConfig, log: Logger, db: Database) {
    this.config = config
    this.log = log
    this.db = db
    this.store = new DocumentStore(db, {
      appendsInFlight: config.appendsInFlight,
      mergeThreads: config.mergeThreads,
      compactionStepRows: config.compactionStepRows,
      onCompactionError: (name, err) => log.warn({ event: 'compaction-failed', document: name, err }, 'compaction failed; will retry'),
      onEvent: (event) => logStoreEvent(log, event),
      onCommitBatch: (size) => this.prometheus.observeCommitBatch(size),
    })
    this.users = new UserRepository(db, new PasswordHasher({ concurrency: config.passwordHashConcurrency }))
    this.tokens = new TokenIssuer(config.jwtSecret, config.jwtTtlSeconds)
    const bootstrapBotId = Number(/^(\d+):/.exec(config.bot.telegramToken ?? '')?.[1])
    this.spaceBots = new SpaceBots({
      db,
      box: new SecretBox(config.secretsKey),
      verify: (token) => telegramGetMe(config.bot.telegramApiRoot, token),
      bootstrap: Number.isSafeInteger(bootstrapBotId) && bootstrapBotId > 0 ? { botId: bootstrapBotId, space: config.botSpace } : undefined,
    })
    this.bots = new BotSupervisor({
      config,
      db,
      spaceBots: this.spaceBots,
      log,
      port: () => this.port,
      // Built below; every bot reports to /metrics through it.
      observe: {
        updateHandled: (ms) => this.prometheus.botObserver.updateHandled(ms),
        telegramCall: (method, status) => this.prometheus.botObserver.telegramCall(method, status),
      },
    })
    const authenticator = new Authenticator({
      tokens: this.tokens,
      users: this.users,
      botServiceToken: config.botServiceToken,
      botSpace: config.botSpace,
      // Each space's Mini App readers are verified with that space's bot token.
      telegramTokenOf: (space) => this.bots.telegramTokenOf(space),
      miniAppMaxAgeSeconds: config.miniAppMaxAgeSeconds,
    })
    const nodeId = (this.nodeId = `${config.instanceId}/${randomBytes(4).toString('hex')}`)
    if (config.redisUrl) {
      const clientName = `${config.redisPrefix}:${config.instanceId.replace(/[^A-Za-z0-9_.:-]/g, '_')}`
      this.redis = new RedisConnection({ url: config.redisUrl, clientName, log })
      this.fanout = new RedisFanout({ redis: this.redis, prefix: config.redisPrefix, nodeId, log, metrics: this.metrics })
    }
    this.liveAccess = new LiveAccess({ db, users: this.users, authenticator, log })
    this.limits = new ConnectionLimits({
      log,
      metrics: this.metrics,
      pendingMaxBytes: config.pendingMaxBytes,
      authTimeoutMs: config.authTimeoutMs,
      maxPendingConnections: config.maxPendingConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      trustProxy: config.trustProxy,
    })
    this.readers = new ReaderGateway({
      limits: this.limits,
      hocuspocus: () => this.server.hocuspocus,
      authenticator,
      log,
      metrics: this.metrics,
      maxMessageBytes: config.readerMaxMessageBytes,
      maxReaders: config.maxReaders,
      pingIntervalMs: config.readerPingIntervalMs,
      documentGraceMs: config.readerDocumentGraceMs,
    })
    this.prometheus = new PrometheusMetrics({ metrics: this.metrics, hocuspocus: () => this.server.hocuspocus, readers: this.readers, store: this.store, redis: this.redis })
    const httpApi = new HttpApi({
      db,
      users: this.users,
      tokens: this.tokens,
      authenticator,
      loginLimiter: new LoginLimiter(
        {
          maxFailuresPerIp: config.loginMaxFailuresPerIp,
          ipWindowSeconds: config.loginIpWindowSeconds,
          slowdownAfter: config.loginSlowdownAfter,
          maxFailuresPerAccount: config.loginMaxFailuresPerAccount,
          lockoutSeconds: config.loginLockoutSeconds,
        },
        { redis: this.redis?.commands ?? null, prefix: config.redisPrefix },
      ),
      metrics: this.metrics,
      log,
      instanceId: config.instanceId,
      adminDir: config.adminDir,
      recordActivity: async (space, events) => {
        await this.writer.change(docName.activity(space), (doc) => applyActivityEvents(doc, events, { writer: nodeId }))
      },
      redis: this.redis,
      store: this.store,
      readers: this.readers,
      limits: this.limits,
      isStopping: () => this.stopping !== null,
      bots: this.bots,
      spaceBots: this.spaceBots,
      telegramWebhookPath: config.bot.webhookUrl ? new URL(config.bot.webhookUrl).pathname : undefined,
      // With METRICS_PORT, /metrics is served only there; without either variable, nowhere (see start()).
      metricsEndpoint: config.metricsPort === undefined && config.metricsToken ? this.prometheus.handler(config.metricsToken) : undefined,
    })
    this.server = new Server({
      name: config.instanceId,
      port: config.port,
      address: config.host,
      quiet: true,
      stopOnSignals: false,
      websocketOptions: { maxPayload: config.maxMessageBytes },
      // In order: extension-chain.ts.
      extensions: extensionChain({
        authorization: new Authorization(authenticator, log),
        durablePersistence: new DurablePersistence(this.store, log, this.metrics, {
          maxDocumentBytes: config.maxDocumentBytes,
          maxWaitingBytes: config.maxWaitingBytes,
          maxUpdatesPerSecond: config.maxUpdatesPerSecond,
          updateBurst: config.updateBurst,
        }),
        catchUp: new CatchUpAnswers({ vectors: new StoredStateVectors(db), hocuspocus: () => this.server.hocuspocus, log }),
        publicContent: new PublicContent(this.store, log),
        redisFanout: this.fanout,
        liveAccess: this.liveAccess,
        httpApi,
        connectionLimits: this.limits,
      }),
    })
    this.boundHttpTimeouts()
    this.writer = new ServerWriter(this.store, () => this.server.hocuspocus)
  }

  /**
   * Node's defaults let a client hold a connection 60 s with headers that
   * never end (and 300 s for a request), and check only every 30 s;
   * Hocuspocus creates the server with those. The check interval is read
   * when the server starts listening, so setting it here takes effect.
   */
  private boundHttpTimeouts(): void {
    const http = this.server.httpServer
    http.headersTimeout = this.config.httpHeadersTimeoutMs
    http.requestTimeout = Math.max(this.config.httpRequestTimeoutMs, this.config.httpHeadersTimeoutMs)
    http.keepAliveTimeout = 5_000
    // A documented createServer() option, read again on 'listening'; @types/node lacks the property.
    ;(http as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.max(100, Math.min(1_000, Math.floor(this.config.httpHeadersTimeoutMs / 2)))
  }

  static async start(config: ServerConfig, log: Logger = createLogger(config.logLevel, config.instanceId)): Promise<{ server: BotsyncServer; info: StartedInfo }> {
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
    const server = new BotsyncServer(config, log, db)
    await server.liveAccess.start()
    await server.bots.start()
    const generatedAdmin = await server.ensureOwner()
    if (config.seedDemo) {
      const seeded = await seedDemoSpace(server.store, 'demo')
      if (seeded.length) log.info({ event: 'seeded', documents: seeded }, 'seeded the demo space')
    }
    await server.server.listen()
    const port = server.server.address.port
    await server.startMetrics()
    const info: StartedInfo = { url: `http://localhost:${port}`, port, generatedAdmin }
    log.info({ event: 'listening', port, database: db.kind, redis: server.redis ? 'configured' : 'off', node: server.nodeId }, `botsync listening on ${info.url}`)
    return { server, info }
  }

  /**
   * METRICS_PORT: a second listener serving only /metrics (and the token
   * too, if set). Neither METRICS_PORT nor METRICS_TOKEN: /metrics is not
   * served, since PORT is usually public and the figures are internal; one
   * line says how to turn it on.
   */
  private async startMetrics(): Promise<void> {
    const { metricsPort, metricsToken, host } = this.config
    if (metricsPort !== undefined) {
      this.metricsServer = await listenMetrics(metricsPort, host, this.prometheus.handler(metricsToken))
      this.log.info({ event: 'metrics-listening', port: portOf(this.metricsServer), token: Boolean(metricsToken) }, `/metrics served on port ${portOf(this.metricsServer)}`)
    } else if (metricsToken) {
      this.log.info({ event: 'metrics-on-main-port', port: this.port }, '/metrics served on PORT, with Authorization: Bearer <METRICS_TOKEN>')
    } else {
      this.log.info(
        { event: 'metrics-off' },
        '/metrics is off: set METRICS_PORT (its own listener, e.g. reachable only by Prometheus) or METRICS_TOKEN (on PORT, Bearer token) to serve it',
      )
    }
  }

  get metricsPort(): number | undefined {
    return this.metricsServer ? portOf(this.metricsServer) : undefined
  }

  get port(): number {
    return this.server.address.port
  }

  /** ADMIN_EMAIL/ADMIN_PASSWORD create that owner; otherwise the first start creates one with a random password. */
  private async ensureOwner(): Promise<StartedInfo['generatedAdmin']> {
    const { adminEmail, adminPassword } = this.config
    if (adminEmail && adminPassword) {
      if (!(await this.users.findByEmail(adminEmail))) {
        await this.users.create({ email: adminEmail, password: adminPassword, role: 'owner' })
        this.log.info({ event: 'owner-created', email: adminEmail })
      }
      return undefined
    }
    if ((await this.users.count()) > 0) return undefined
    const email = 'admin@botsync.local'
    const password = randomBytes(12).toString('base64url')
    await this.users.create({ email, name: 'Admin', password, role: 'owner' })
    return { email, password }
  }

  /**
   * Clean shutdown (SIGTERM): stop accepting sockets, close every client
   * socket with code 1001 and reason `server-shutting-down` so providers
   * reconnect (through the load balancer, to another instance), let messages
   * already received be committed, applied and published, then flush appends,
   * leave Redis and close the database.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ event: 'stopping' })
      // The bots first: each finishes its running updates and sends its last activity to this server.
      await this.bots.stop()
      this.server.httpServer.close()
      this.metricsServer?.close()
      this.metricsServer?.closeAllConnections()
      await this.writer.drain()
      await this.readers.stop()
      for (const document of this.server.hocuspocus.documents.values()) {
        for (const connection of document.getConnections()) connection.webSocket.close(1001, 'server-shutting-down')
      }
      // Hocuspocus unloads a document only after its connections' queued
      // messages are handled, so in-flight updates are applied and published.
      await this.server.destroy()
      await this.store.close()
      await this.liveAccess.stop()
      this.fanout?.flush()
      await this.redis?.close()
      await this.db.close()
      this.log.info({ event: 'stopped' })
    })()
    return this.stopping
  }
}

/**
 * One line per storage event. Loads and compactions are debug lines unless
 * they took long enough to notice (or ran in a worker): a busy instance loads
 * many small documents a second.
 */
function logStoreEvent(log: Logger, event: StoreEvent): void {
  switch (event.event) {
    case 'update-quarantined':
      log.warn(event, 'a stored update would not integrate; moved aside to quarantined_updates, the document loads without it')
      return
    case 'quarantine-failed':
      log.warn(event, 'could not copy an update that does not integrate to quarantined_updates; it stays skipped in the log')
      return
    case 'document-loaded':
    case 'document-compacted':
      if (event.ms >= SLOW_STORAGE_MS || event.where === 'worker') log.info(event)
      else log.debug(event)
      return
  }
}

const SLOW_STORAGE_MS = 100
