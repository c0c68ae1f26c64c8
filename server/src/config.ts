import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_CHECKPOINT_INTERVAL_SECONDS, LIMITS } from '@botsync/shared-docs'
import proxyaddr from 'proxy-addr'
import { secretsKey } from './auth/secret-box.ts'
// The config module alone: @botsync/bot itself would load telegraf.
import { readBotEnvironment, type BotEnvironment } from '@botsync/bot/config'

export interface ServerConfig {
  port: number
  host: string
  /** METRICS_TOKEN: /metrics answers only `Authorization: Bearer <it>` (401 otherwise). */
  metricsToken?: string
  /** METRICS_PORT: /metrics is served on this port (same HOST) and not on PORT; 0 picks a free one (tests). */
  metricsPort?: number
  databaseUrl?: string
  dataDir: string
  jwtSecret: string
  /** SECRETS_KEY (or DATA_DIR/secrets-key, generated once): the AES-256-GCM key of secrets at rest (space bots' tokens). */
  secretsKey: Buffer
  jwtTtlSeconds: number
  /** REFRESH_TTL_SECONDS: how long a refresh cookie stays valid after its last use (each use rotates it and starts this again). */
  refreshTtlSeconds: number
  adminEmail?: string
  adminPassword?: string
  botServiceToken: string
  botSpace: string
  maxMessageBytes: number
  appendsInFlight: number
  seedDemo: boolean
  logLevel: string
  instanceId: string
  /** TELEGRAM_BOT_TOKEN: the bootstrap bot of BOT_SPACE (run and used for its Mini App readers by bots/bot-supervisor.ts). */
  telegramBotToken?: string
  /**
   * The bot's own variables, read by @botsync/bot (readBotEnvironment), for
   * the embedded bot; botServiceToken, botSpace and telegramBotToken above
   * are what the server makes of them.
   */
  bot: BotEnvironment
  /** Oldest accepted initData `auth_date`, in seconds. */
  miniAppMaxAgeSeconds: number
  /** Mini App reader sockets (/readers): at most this many per instance. */
  maxReaders: number
  /** Largest frame a reader may send. */
  readerMaxMessageBytes: number
  /** Reader heartbeat period; must stay under the provider's 30 s silence limit. */
  readerPingIntervalMs: number
  /** How long a public document stays loaded after its last reader left. */
  readerDocumentGraceMs: number
  /** The built admin app served at `/`. */
  adminDir: string
  /** One Redis for fan-out between instances; undefined = single instance (or a cluster, below). */
  redisUrl?: string
  /** A Redis Cluster for fan-out instead (REDIS_CLUSTER_NODES, or REDIS_CLUSTER=1 with REDIS_URL naming one node). */
  redisCluster?: RedisClusterConfig
  /** Prefix of every Redis channel, so several deployments can share one Redis. */
  redisPrefix: string
  /** scrypt computations at once (each holds one libuv thread; the rest stay free for files). */
  passwordHashConcurrency: number
  /** Failed logins from one address within `loginIpWindowSeconds` before it gets 429 for that window. */
  loginMaxFailuresPerIp: number
  loginIpWindowSeconds: number
  /** Consecutive failed logins for one email from which each further attempt must wait (1 s, 2 s, 4 s …). */
  loginSlowdownAfter: number
  /** Consecutive failed logins for one email that lock it for `loginLockoutSeconds`. */
  loginMaxFailuresPerAccount: number
  loginLockoutSeconds: number
  /** Largest encoded size a client's updates may grow a document to (`document-too-large`). */
  maxDocumentBytes: number
  /** Largest media upload (MEDIA_MAX_BYTES), at most Telegram's 50 MB; photos stay at most 10 MB. */
  mediaMaxBytes: number
  /** Updates one client socket may send per second, sustained (`rate-limited`); 0: no limit. */
  maxUpdatesPerSecond: number
  /** Updates one client socket may send at once before the per-second rate applies. */
  updateBurst: number
  /** Event-loop time (ms) one slice of a broadcast to a document's connections may take before it yields (BROADCAST_SLICE_MS; 0: yield after every connection). */
  broadcastSliceMs: number
  /** Bytes of updates a document may hold waiting for content it lacks (`too-much-waiting`). */
  maxWaitingBytes: number
  /** Worker threads for folding large documents' logs (loads, compactions); 0 = on the event loop. */
  mergeThreads: number
  /** Log rows one compaction transaction folds at most. */
  compactionStepRows: number
  /** Bytes a /collab or /readers socket may send before it has authenticated; more closes it (1009). */
  pendingMaxBytes: number
  /** How long a socket may take to authenticate; then it is closed (4401 `authentication-timeout`). */
  authTimeoutMs: number
  /** Unauthenticated sockets one instance holds at once; more are refused at the upgrade (503). */
  maxPendingConnections: number
  /** Open /collab + /readers sockets per client address; more are refused at the upgrade (429). */
  maxConnectionsPerIp: number
  /** Which peers' X-Forwarded-For is believed when finding a client's address (see TrustProxy). */
  trustProxy: TrustProxy
  /** Node's headersTimeout: a request whose headers are not complete by then is answered 408 and closed. */
  httpHeadersTimeoutMs: number
  /** Node's requestTimeout: the whole request, body included. */
  httpRequestTimeoutMs: number
  /** PUBLIC_URL: the admin's address as users reach it, for invite links; unset: the request's origin. */
  publicUrl?: string
  /** SMTP_URL: invite and reset links are also emailed through it (nodemailer); unset: owners copy them. */
  smtpUrl?: string
  /** SMTP_FROM: the From of those emails. */
  smtpFrom?: string
  /** How long a deleted space can still be restored before the sweeper purges it. */
  spaceDeleteGraceSeconds: number
  /** CHECKPOINT_INTERVAL: at most one automatic checkpoint of a space's drafts per this many seconds of editing; 0 turns them off. */
  checkpointIntervalSeconds: number
  /** How often the sweeper looks for spaces to purge (a minute; not an environment variable). */
  spaceSweepMs: number
  /** SIMULATOR_TTL_SECONDS: a "Try it" conversation unused this long is dropped (its in-memory session with it). */
  simulatorTtlSeconds: number
  /** SIMULATOR_MAX_SESSIONS: "Try it" conversations held at once by this instance; a new one beyond it is refused (429). */
  simulatorMaxSessions: number
}

/**
 * TRUST_PROXY: `false` (the socket's address is the client), `true` (every
 * hop is a trusted proxy: the leftmost X-Forwarded-For address), a number of
 * trusted hops, or trusted proxy addresses/CIDRs (and proxy-addr's names
 * `loopback`, `linklocal`, `uniquelocal`).
 */
export type TrustProxy = boolean | number | string[]

type Env = Record<string, string | undefined>

/** admin-svelte/dist of this checkout, wherever the server is started from. */
const DEFAULT_ADMIN_DIR = fileURLToPath(new URL('../../admin-svelte/dist', import.meta.url))

/**
 * Reads configuration from the environment (documented in the README).
 * Secrets that are not given are generated once and kept in DATA_DIR, so the
 * embedded default needs no setup and survives restarts.
 */
export interface RedisClusterConfig {
  /** Seed nodes: any reachable one tells the client the rest of the cluster. */
  nodes: Array<{ host: string; port: number }>
  /** From REDIS_URL's user info and scheme; applied to every node. */
  username?: string
  password?: string
  tls: boolean
}

export function loadConfig(env: Env = process.env): ServerConfig {
  const dataDir = resolve(env.DATA_DIR ?? './data')
  const bot = readBotEnvironment(env)
  return {
    port: integer(env.PORT, 8080, 'PORT'),
    host: env.HOST ?? '0.0.0.0',
    metricsToken: env.METRICS_TOKEN || undefined,
    metricsPort: env.METRICS_PORT ? integer(env.METRICS_PORT, 0, 'METRICS_PORT') : undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    jwtSecret: env.JWT_SECRET || persistentSecret(dataDir, 'jwt-secret'),
    secretsKey: secretsKey(env.SECRETS_KEY, dataDir),
    jwtTtlSeconds: integer(env.JWT_TTL_SECONDS, 3600, 'JWT_TTL_SECONDS'),
    refreshTtlSeconds: integer(env.REFRESH_TTL_SECONDS, 30 * 24 * 3600, 'REFRESH_TTL_SECONDS'),
    adminEmail: env.ADMIN_EMAIL || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    botServiceToken: bot.serviceToken || persistentSecret(dataDir, 'bot-service-token'),
    botSpace: bot.space ?? 'demo',
    maxMessageBytes: integer(env.MAX_MESSAGE_BYTES, 1024 * 1024, 'MAX_MESSAGE_BYTES'),
    appendsInFlight: Math.max(1, integer(env.APPENDS_IN_FLIGHT, 2, 'APPENDS_IN_FLIGHT')),
    seedDemo: (env.SEED_DEMO ?? 'true') !== 'false',
    logLevel: env.LOG_LEVEL ?? 'info',
    telegramBotToken: bot.telegramToken,
    bot,
    miniAppMaxAgeSeconds: integer(env.MINIAPP_MAX_AGE, 86400, 'MINIAPP_MAX_AGE'),
    maxReaders: integer(env.MAX_READERS, 100_000, 'MAX_READERS'),
    readerMaxMessageBytes: integer(env.READER_MAX_MESSAGE_BYTES, 16 * 1024, 'READER_MAX_MESSAGE_BYTES'),
    readerPingIntervalMs: readerPingInterval(env.READER_PING_INTERVAL_MS),
    readerDocumentGraceMs: integer(env.READER_DOCUMENT_GRACE_MS, 30_000, 'READER_DOCUMENT_GRACE_MS'),
    adminDir: resolve(env.ADMIN_DIR || DEFAULT_ADMIN_DIR),
    instanceId: env.INSTANCE_ID || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    ...redisTarget(env),
    redisPrefix: redisPrefix(env.REDIS_PREFIX),
    passwordHashConcurrency: Math.max(1, integer(env.PASSWORD_HASH_CONCURRENCY, 2, 'PASSWORD_HASH_CONCURRENCY')),
    loginMaxFailuresPerIp: Math.max(1, integer(env.LOGIN_MAX_FAILURES_PER_IP, 20, 'LOGIN_MAX_FAILURES_PER_IP')),
    loginIpWindowSeconds: Math.max(1, integer(env.LOGIN_IP_WINDOW_SECONDS, 900, 'LOGIN_IP_WINDOW_SECONDS')),
    loginSlowdownAfter: Math.max(1, integer(env.LOGIN_SLOWDOWN_AFTER, 5, 'LOGIN_SLOWDOWN_AFTER')),
    loginMaxFailuresPerAccount: Math.max(1, integer(env.LOGIN_MAX_FAILURES_PER_ACCOUNT, 10, 'LOGIN_MAX_FAILURES_PER_ACCOUNT')),
    loginLockoutSeconds: Math.max(1, integer(env.LOGIN_LOCKOUT_SECONDS, 900, 'LOGIN_LOCKOUT_SECONDS')),
    maxDocumentBytes: integer(env.MAX_DOCUMENT_BYTES, 10 * 1024 * 1024, 'MAX_DOCUMENT_BYTES'),
    mediaMaxBytes: mediaMaxBytes(env.MEDIA_MAX_BYTES),
    maxWaitingBytes: integer(env.MAX_WAITING_BYTES, 64 * 1024, 'MAX_WAITING_BYTES'),
    maxUpdatesPerSecond: integer(env.MAX_UPDATES_PER_SECOND, 50, 'MAX_UPDATES_PER_SECOND'),
    updateBurst: Math.max(1, integer(env.UPDATE_BURST, 200, 'UPDATE_BURST')),
    broadcastSliceMs: integer(env.BROADCAST_SLICE_MS, 2, 'BROADCAST_SLICE_MS'),
    mergeThreads: integer(env.MERGE_THREADS, 1, 'MERGE_THREADS'),
    compactionStepRows: Math.max(1, integer(env.COMPACTION_STEP_ROWS, 20_000, 'COMPACTION_STEP_ROWS')),
    pendingMaxBytes: integer(env.PENDING_MAX_BYTES, 64 * 1024, 'PENDING_MAX_BYTES'),
    authTimeoutMs: integer(env.AUTH_TIMEOUT_MS, 10_000, 'AUTH_TIMEOUT_MS'),
    maxPendingConnections: integer(env.MAX_PENDING_CONNECTIONS, 1000, 'MAX_PENDING_CONNECTIONS'),
    maxConnectionsPerIp: integer(env.MAX_CONNECTIONS_PER_IP, 200, 'MAX_CONNECTIONS_PER_IP'),
    trustProxy: trustProxy(env.TRUST_PROXY),
    httpHeadersTimeoutMs: integer(env.HTTP_HEADERS_TIMEOUT_MS, 10_000, 'HTTP_HEADERS_TIMEOUT_MS'),
    httpRequestTimeoutMs: integer(env.HTTP_REQUEST_TIMEOUT_MS, 30_000, 'HTTP_REQUEST_TIMEOUT_MS'),
    publicUrl: publicUrl(env.PUBLIC_URL),
    smtpUrl: env.SMTP_URL || undefined,
    smtpFrom: env.SMTP_FROM || undefined,
    spaceDeleteGraceSeconds: integer(env.SPACE_DELETE_GRACE_SECONDS, 7 * 24 * 3600, 'SPACE_DELETE_GRACE_SECONDS'),
    checkpointIntervalSeconds: integer(env.CHECKPOINT_INTERVAL, DEFAULT_CHECKPOINT_INTERVAL_SECONDS, 'CHECKPOINT_INTERVAL'),
    spaceSweepMs: 60_000,
    simulatorTtlSeconds: integer(env.SIMULATOR_TTL_SECONDS, 30 * 60, 'SIMULATOR_TTL_SECONDS'),
    simulatorMaxSessions: integer(env.SIMULATOR_MAX_SESSIONS, 200, 'SIMULATOR_MAX_SESSIONS'),
  }
}

function integer(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`)
  return parsed
}

/** Lower than Telegram's limit only: a larger file could never be sent by the bot. */
function mediaMaxBytes(value: string | undefined): number {
  const bytes = integer(value, LIMITS.fileBytes, 'MEDIA_MAX_BYTES')
  if (bytes < 1 || bytes > LIMITS.fileBytes) throw new Error(`MEDIA_MAX_BYTES must be between 1 and ${LIMITS.fileBytes} (Telegram's 50 MB), got "${value}"`)
  return bytes
}

function readerPingInterval(value: string | undefined): number {
  const ms = integer(value, 15_000, 'READER_PING_INTERVAL_MS')
  // The provider reconnects after 30 s without a message; the ping is that message for idle readers.
  if (ms < 100 || ms > 25_000) throw new Error(`READER_PING_INTERVAL_MS must be between 100 and 25000, got "${value}"`)
  return ms
}

/**
 * One Redis or a cluster. A cluster is never guessed from the URL (asking the
 * node would make configuration depend on Redis being up at start, which it
 * need not be): it is REDIS_CLUSTER_NODES, or REDIS_CLUSTER=1 with REDIS_URL
 * naming one of its nodes (so a password or TLS can be given in the URL).
 */
function redisTarget(env: Env): { redisUrl?: string; redisCluster?: RedisClusterConfig } {
  const url = redisUrl(env.REDIS_URL)
  const cluster = flag(env.REDIS_CLUSTER, 'REDIS_CLUSTER')
  const nodes = env.REDIS_CLUSTER_NODES?.trim()
  if (nodes) {
    if (url)
      throw new Error('Set REDIS_URL or REDIS_CLUSTER_NODES, not both (for a cluster with a password or TLS: REDIS_URL=rediss://user:password@node:port with REDIS_CLUSTER=1)')
    if (cluster === false) throw new Error('REDIS_CLUSTER_NODES names a Redis Cluster, but REDIS_CLUSTER=0 says there is none; remove one of them')
    return { redisCluster: { nodes: clusterNodes(nodes), tls: false } }
  }
  if (cluster && !url) throw new Error('REDIS_CLUSTER=1 needs REDIS_URL (one node of the cluster) or REDIS_CLUSTER_NODES (host:port,host:port)')
  if (!cluster || !url) return { redisUrl: url }
  const parsed = new URL(url)
  if (parsed.pathname.length > 1 && parsed.pathname !== '/0') throw new Error(`A Redis Cluster has only database 0; remove "${parsed.pathname}" from REDIS_URL`)
  return {
    redisCluster: {
      nodes: [{ host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) }],
      username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
      password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
      tls: parsed.protocol === 'rediss:',
    },
  }
}

function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined
  if (value === '1' || value === 'true') return true
  if (value === '0' || value === 'false') return false
  throw new Error(`${name} must be 1 or 0, got "${value}"`)
}

function clusterNodes(value: string): Array<{ host: string; port: number }> {
  return value.split(',').map((entry) => {
    const node = entry.trim()
    const match = /^(\[[^\]]+\]|[^:\s/]+):(\d{1,5})$/.exec(node)
    const port = Number(match?.[2])
    if (!match || port < 1 || port > 65535) throw new Error(`REDIS_CLUSTER_NODES must be host:port entries separated by commas, like 10.0.0.1:6379,10.0.0.2:6379; got "${node}"`)
    return { host: match[1].replace(/^\[|\]$/g, ''), port }
  })
}

function redisUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  let protocol: string
  try {
    protocol = new URL(value).protocol
  } catch {
    throw new Error('REDIS_URL must be a URL like redis://host:6379')
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') throw new Error(`REDIS_URL must start with redis:// or rediss://, got "${protocol}//"`)
  return value
}

function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error('PUBLIC_URL must be a URL like https://botsync.example.com')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`PUBLIC_URL must start with http:// or https://, got "${url.protocol}//"`)
  return value.replace(/\/+$/, '')
}

function redisPrefix(value: string | undefined): string {
  if (value === undefined || value === '') return 'botsync'
  // Channel names end up in logs and CLIENT LIST; keep them to one plain token.
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) {
    throw new Error(`REDIS_PREFIX must be 1-64 characters of A-Z a-z 0-9 _ . : -, got "${value}"`)
  }
  return value
}

function trustProxy(value: string | undefined): TrustProxy {
  const text = (value ?? '').trim()
  if (text === '' || text === 'false') return false
  if (text === 'true') return true
  if (/^\d+$/.test(text)) return Number(text)
  const list = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  try {
    // Fails on anything that is not an address, a CIDR or one of its names.
    proxyaddr.compile(list)
  } catch (error) {
    throw new Error(`TRUST_PROXY must be true, false, a number of hops or a comma-separated list of addresses/CIDRs: ${(error as Error).message}`, { cause: error })
  }
  return list
}

function persistentSecret(dataDir: string, file: string): string {
  const path = join(dataDir, file)
  if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(path, secret, { mode: 0o600 })
  return secret
}
