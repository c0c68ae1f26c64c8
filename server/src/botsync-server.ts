import { ReleasePublisher } from './versions/release-publisher.ts'
import { VersionStore } from './versions/version-store.ts'
import { VersionChanges } from './versions/version-changes.ts'
import { DraftProjections } from './versions/draft-projections.ts'
import { StateProjections } from './versions/state-projections.ts'
import { Checkpointer } from './versions/checkpointer.ts'
import { VersionRestorer } from './versions/version-restorer.ts'
import type { Server as HttpServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import { Server } from '@hocuspocus/server'
import { DocumentStore, openDatabase, StoredStateVectors, type Database, type StoreEvent } from '@botsync/persistence'
import { applyActivityEvents, docName } from '@botsync/shared-docs'
import { Authenticator } from './auth/authenticator.ts'
import { LoginLimiter } from './auth/login-limiter.ts'
import { PasswordHasher } from './auth/passwords.ts'
import { RefreshSessions } from './auth/refresh-sessions.ts'
import { SecretBox } from './auth/secret-box.ts'
import { BotSupervisor } from './bots/bot-supervisor.ts'
import { SpaceBots } from './bots/space-bots.ts'
import { telegramGetMe } from './bots/telegram-get-me.ts'
import { TokenIssuer } from './auth/token-issuer.ts'
import { UserRepository } from './auth/user-repository.ts'
import { Invites } from './auth/invites.ts'
import { createInviteMailer } from './auth/invite-mailer.ts'
import { SpaceMembers } from './auth/space-members.ts'
import { Spaces } from './auth/spaces.ts'
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
import { SessionRoutes } from './http/session-routes.ts'
import { createLogger, type Logger } from './logger.ts'
import { Metrics } from './metrics.ts'
import { listenMetrics, portOf, PrometheusMetrics } from './prometheus.ts'
import { ReaderGateway } from './readers/reader-gateway.ts'
import { ClusterRedisConnection } from './redis/cluster-redis-connection.ts'
import { RedisConnection } from './redis/redis-connection.ts'
import type { RedisLink } from './redis/redis-link.ts'
import { ServerWriter } from './server-writer.ts'
import { MediaStore } from './media/media-store.ts'
import { MediaUploads } from './media/media-uploads.ts'
import { SimulatorReplicas } from './simulator/simulator-replicas.ts'
import { SimulatorSessions } from './simulator/simulator-sessions.ts'
import { spaceServiceToken } from './auth/bot-service-tokens.ts'
import { settingsOf } from '@botsync/bot/config'

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
  readonly spaces: Spaces
  readonly members: SpaceMembers
  readonly invites: Invites
  readonly tokens: TokenIssuer
  /** Refresh tokens (the session cookie): issue, rotate, revoke. */
  readonly sessions: RefreshSessions
  readonly writer: ServerWriter
  /** Releases and checkpoints (migration 10). */
  readonly versions: VersionStore
  /** Publishing releases and the publish mode. */
  readonly publisher: ReleasePublisher
  /** The drafts of each space, projected, re-read per document only where the store moved. */
  readonly draftProjections: DraftProjections
  /** The change list between versions. */
  readonly versionChanges: VersionChanges
  /** Restoring versions into the drafts. */
  readonly versionRestorer: VersionRestorer
  /** Uploaded media files (media_files). */
  readonly media: MediaStore
  readonly metrics = new Metrics()
  readonly server: Server
  /** Set when REDIS_URL is: this instance shares documents with other instances. */
  readonly redis: RedisLink | null = null
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
  /** The admin's chat simulator ("Try it"): in-memory conversations with the real runner. */
  readonly simulator: SimulatorSessions
  /** Re-checks open admin connections on token expiry and user changes. */
  readonly liveAccess: LiveAccess
  /** Per-address and pre-authentication limits of /collab and /readers sockets. */
  readonly limits: ConnectionLimits
  /** /metrics' registry and the bot's observer. */
  readonly prometheus: PrometheusMetrics
  /** The METRICS_PORT listener (null: none). */
  metricsServer: HttpServer | null = null
  private stopping: Promise<void> | null = null
  /** Purges spaces whose deletion grace has passed (every SPACE_SWEEP_MS). */
  private sweeper: NodeJS.Timeout | null = null

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
    this.spaces = new Spaces(db)
    this.members = new SpaceMembers(db)
    this.invites = new Invites(db)
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
      spaces: this.spaces,
      members: this.members,
      botServiceToken: config.botServiceToken,
      botSpace: config.botSpace,
      // Each space's Mini App readers are verified with that space's bot token.
      telegramTokenOf: (space) => this.bots.telegramTokenOf(space),
      miniAppMaxAgeSeconds: config.miniAppMaxAgeSeconds,
    })
    const nodeId = (this.nodeId = `${config.instanceId}/${randomBytes(4).toString('hex')}`)
    if (config.redisUrl || config.redisCluster) {
      const clientName = `${config.redisPrefix}:${config.instanceId.replace(/[^A-Za-z0-9_.:-]/g, '_')}`
      this.redis = config.redisCluster
        ? new ClusterRedisConnection({ cluster: config.redisCluster, clientName, log })
        : new RedisConnection({ url: config.redisUrl!, clientName, log })
      this.fanout = new RedisFanout({ redis: this.redis, prefix: config.redisPrefix, nodeId, log, metrics: this.metrics })
    }
    this.liveAccess = new LiveAccess({ db, users: this.users, members: this.members, authenticator, log })
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
    this.sessions = new RefreshSessions(db, config.refreshTtlSeconds)
    const sessionRoutes = new SessionRoutes({
      users: this.users,
      tokens: this.tokens,
      authenticator,
      members: this.members,
      sessions: this.sessions,
      limits: this.limits,
      log,
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
    })
    this.versions = new VersionStore(db)
    const states = new StateProjections()
    this.draftProjections = new DraftProjections({ db, store: this.store, states })
    this.versionChanges = new VersionChanges({ db, store: this.store, versions: this.versions, drafts: (space) => this.draftProjections.of(space), states })
    this.publisher = new ReleasePublisher({
      store: this.store,
      versions: this.versions,
      // this.writer is built below, once Hocuspocus exists.
      writer: { read: (name) => this.writer.read(name), change: (name, change, options) => this.writer.change(name, change, options) },
      log,
      projections: this.versionChanges,
      drafts: (space) => this.draftProjections.of(space),
      states,
    })
    this.versionRestorer = new VersionRestorer({
      versions: this.versions,
      writer: { change: (name, change, options) => this.writer.change(name, change, options) },
      publisher: this.publisher,
      log,
    })
    this.media = new MediaStore(db)
    const mediaUploads = new MediaUploads({
      store: this.media,
      // this.writer is built below, once Hocuspocus exists.
      writer: { change: (name, change, options) => this.writer.change(name, change, options) },
      log,
      maxBytes: config.mediaMaxBytes,
    })
    this.simulator = new SimulatorSessions({
      replicas: new SimulatorReplicas({
        botReplica: (space) => this.bots.handleOf(space)?.replica,
        open: async (space) => {
          const { SpaceReplica } = await import('@botsync/bot')
          // Read-only like the space's bot, with the token derived for that space only; never saved to a file.
          return new SpaceReplica({ url: this.bots.collabUrl(), token: spaceServiceToken(config.botServiceToken, space), space, log })
        },
        log,
      }),
      log,
      ttlMs: config.simulatorTtlSeconds * 1000,
      maxSessions: config.simulatorMaxSessions,
      miniAppUrl: settingsOf(config.bot).miniAppUrl,
    })
    const httpApi = new HttpApi({
      simulator: this.simulator,
      db,
      users: this.users,
      tokens: this.tokens,
      authenticator,
      spaces: this.spaces,
      members: this.members,
      invites: this.invites,
      mailer: createInviteMailer({ smtpUrl: config.smtpUrl, from: config.smtpFrom }),
      publicUrl: config.publicUrl,
      spaceDeleteGraceSeconds: config.spaceDeleteGraceSeconds,
      sessionRoutes,
      metrics: this.metrics,
      log,
      instanceId: config.instanceId,
      adminDir: config.adminDir,
      recordActivity: async (space, events) => {
        await this.writer.change(docName.activity(space), (doc) => applyActivityEvents(doc, events, { writer: nodeId }))
      },
      redis: this.redis,
      store: this.store,
      // this.writer is built below, once Hocuspocus exists.
      writer: { read: (name) => this.writer.read(name), change: (name, change, options) => this.writer.change(name, change, options) },
      versions: this.versions,
      publisher: this.publisher,
      versionChanges: this.versionChanges,
      versionRestorer: this.versionRestorer,
      media: { store: this.media, uploads: mediaUploads, maxBytes: config.mediaMaxBytes },
      readers: this.readers,
      limits: this.limits,
      isStopping: () => this.stopping !== null,
      bots: this.bots,
      spaceBots: this.spaceBots,
      botSpace: config.botSpace,
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
          broadcastSliceMs: config.broadcastSliceMs,
        }),
        catchUp: new CatchUpAnswers({ vectors: new StoredStateVectors(db), hocuspocus: () => this.server.hocuspocus, log }),
        publicContent: new PublicContent(this.store, log),
        redisFanout: this.fanout,
        liveAccess: this.liveAccess,
        checkpoints: new Checkpointer({ publisher: this.publisher, intervalMs: config.checkpointIntervalSeconds * 1000, log }),
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
    const { generatedAdmin, ownerId } = await server.ensureOwner()
    if (config.seedDemo) {
      // The demo space's row, with the first owner as its owner (if it has none yet).
      await server.spaces.ensure('demo', 'Demo', ownerId ?? undefined)
      const seeded = await seedDemoSpace(server.store, 'demo')
      if (seeded.length) log.info({ event: 'seeded', documents: seeded }, 'seeded the demo space')
    }
    // The bot principal may read only a space that exists.
    await server.spaces.ensure(config.botSpace, config.botSpace, ownerId ?? undefined)
    server.startSweeper()
    await server.server.listen()
    const port = server.server.address.port
    await server.startMetrics()
    const info: StartedInfo = { url: `http://localhost:${port}`, port, generatedAdmin }
    log.info(
      { event: 'listening', port, database: db.kind, redis: server.config.redisCluster ? 'cluster' : server.redis ? 'configured' : 'off', node: server.nodeId },
      `botsync listening on ${info.url}`,
    )
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

  /**
   * ADMIN_EMAIL/ADMIN_PASSWORD create that user; otherwise the first start
   * creates one with a random password. `ownerId`: that first owner (to own
   * the demo space and BOT_SPACE when they have no owner), null when
   * users existed already and ADMIN_EMAIL is not set.
   */
  private async ensureOwner(): Promise<{ generatedAdmin: StartedInfo['generatedAdmin']; ownerId: string | null }> {
    const { adminEmail, adminPassword } = this.config
    if (adminEmail && adminPassword) {
      let user = await this.users.findByEmail(adminEmail)
      if (!user) {
        user = await this.createOnce({ email: adminEmail, password: adminPassword })
        this.log.info({ event: 'owner-created', email: adminEmail })
      }
      return { generatedAdmin: undefined, ownerId: user?.id ?? (await this.users.findByEmail(adminEmail))?.id ?? null }
    }
    if ((await this.users.count()) > 0) return { generatedAdmin: undefined, ownerId: null }
    const email = 'admin@botsync.local'
    const password = randomBytes(12).toString('base64url')
    const user = await this.createOnce({ email, name: 'Admin', password })
    // Another instance starting at the same moment created it first: its password is the one shown.
    if (!user) return { generatedAdmin: undefined, ownerId: (await this.users.findByEmail(email))?.id ?? null }
    return { generatedAdmin: { email, password }, ownerId: user.id }
  }

  /** Creates the user, or null if an instance starting at the same time just did (unique email). */
  private async createOnce(input: { email: string; name?: string; password: string }) {
    try {
      return await this.users.create(input)
    } catch (error) {
      if ((error as { code?: unknown }).code === '23505') return null
      throw error
    }
  }

  /**
   * Every minute, on every instance: purge the spaces whose grace has
   * passed (Spaces.purgeExpired is safe to run concurrently). Unref'd: it
   * never keeps the process alive.
   */
  private startSweeper(): void {
    const sweep = () => {
      this.spaces
        .purgeExpired()
        .then((purged) => {
          if (purged.length) this.log.info({ event: 'spaces-purged', spaces: purged }, 'purged deleted spaces')
        })
        .catch((error) => this.log.warn({ event: 'space-sweep-failed', err: error }, 'could not purge deleted spaces; will retry'))
    }
    this.sweeper = setInterval(sweep, this.config.spaceSweepMs)
    this.sweeper.unref()
    sweep()
  }

  /** Purges due spaces now (tests; the sweeper does it every minute). */
  sweepSpaces(): Promise<string[]> {
    return this.spaces.purgeExpired()
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
      if (this.sweeper) clearInterval(this.sweeper)
      // The bots first: each finishes its running updates and sends its last activity to this server.
      await this.bots.stop()
      await this.simulator.stop()
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
