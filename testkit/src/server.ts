// @botsync/testkit/server: the real botsync server for a test (in this process
// or as its own OS process) on the shared test database, with fresh secrets,
// spaces no other test uses, admin tokens and real @hocuspocus/provider clients.
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import pino from 'pino'
import * as Y from 'yjs'
import { DocumentStore, openDatabase } from '@botsync/persistence'
import { BotsyncServer, loadConfig } from '@botsync/server'
import { demoSeed } from '@botsync/shared-docs'
import { login } from './login.ts'
import { ServerProcess } from './server-process.ts'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const JWT_SECRET = 'test-secret-' + randomBytes(8).toString('hex')
export const BOT_TOKEN = 'bot-token-' + randomBytes(8).toString('hex')
/** Shared by every test server, as SECRETS_KEY must be by instances sharing a database (they read each other's sealed bot tokens). */
export const SECRETS_KEY = randomBytes(32).toString('base64')

/** A space name no other test uses, so tests share the database safely. */
/** The demo content of `space`, stored in the database the way the server seeds it (for servers started afterwards). */
export async function storeDemoSpace(space: string, databaseUrl = DATABASE_URL): Promise<void> {
  const db = await openDatabase({ databaseUrl })
  try {
    const store = new DocumentStore(db)
    for (const [name, update] of demoSeed(space)) await store.append(name, update)
    await store.flush()
  } finally {
    await db.close()
  }
}

export function uniqueSpace(): string {
  return `t${randomUUID().replaceAll('-', '').slice(0, 12)}`
}

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'botsync-test-')),
    JWT_SECRET,
    BOT_SERVICE_TOKEN: BOT_TOKEN,
    SECRETS_KEY,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    ...overrides,
  }
}

/** The real server in this process (fast; most tests). */
export async function startServer(overrides: Record<string, string> = {}): Promise<BotsyncServer> {
  const config = loadConfig(testEnv(overrides))
  const { server } = await BotsyncServer.start(config, pino({ level: overrides.LOG_LEVEL ?? 'silent' }))
  return server
}

/** The real server as its own OS process, for crash (SIGKILL) tests; the test environment plus `overrides`, info logs. */
export function spawnServer(overrides: Record<string, string> = {}): Promise<ServerProcess> {
  return ServerProcess.spawn({ env: testEnv({ LOG_LEVEL: 'info', ...overrides }) })
}

export { login, ServerProcess }

/** Creates a user with the given role straight in the database and logs in. */
export async function userToken(server: BotsyncServer, role: 'owner' | 'editor' | 'viewer'): Promise<string> {
  const email = `${role}-${randomUUID()}@test.local`
  await server.users.create({ email, password: 'correct horse', role })
  return login(`http://127.0.0.1:${server.port}`, email, 'correct horse')
}

export interface TestClient {
  provider: HocuspocusProvider
  /** The socket; change `socket.configuration.url` to make it reconnect to another instance. */
  socket: HocuspocusProviderWebsocket
  doc: Y.Doc
  stateless: string[]
  authFailure: Promise<string>
  destroy(): void
}

/** A real @hocuspocus/provider client. */
export function connect(wsUrl: string, name: string, token: string | (() => string), options: { doc?: Y.Doc } = {}): TestClient {
  const doc = options.doc ?? new Y.Doc()
  const stateless: string[] = []
  let failed: (reason: string) => void = () => {}
  const authFailure = new Promise<string>((resolve) => (failed = resolve))
  const websocketProvider = new HocuspocusProviderWebsocket({ url: wsUrl, maxAttempts: 0, minDelay: 50, maxDelay: 500 })
  const provider = new HocuspocusProvider({
    websocketProvider,
    name,
    document: doc,
    token,
    onAuthenticationFailed: ({ reason }) => failed(reason),
    onStateless: ({ payload }) => stateless.push(payload),
  })
  provider.attach()
  return {
    provider,
    socket: websocketProvider,
    doc,
    stateless,
    authFailure,
    destroy() {
      provider.destroy()
      websocketProvider.destroy()
    },
  }
}

export function wsUrlOf(server: BotsyncServer): string {
  return `ws://127.0.0.1:${server.port}/collab`
}

/** The Mini App readers' endpoint (the reader gateway). */
export function readersUrlOf(server: BotsyncServer): string {
  return `ws://127.0.0.1:${server.port}/readers`
}

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function synced(client: TestClient, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => client.provider.isSynced && client.provider.unsyncedChanges === 0, 'provider to be synced', timeoutMs)
}
