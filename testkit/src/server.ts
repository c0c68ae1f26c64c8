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
import { demoSeed, docName, initSettingsDoc, setSettingsText, setTextPublic } from '@botsync/shared-docs'
import { login, loginSession, refreshSession } from './login.ts'
import { ServerProcess } from './server-process.ts'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const JWT_SECRET = 'test-secret-' + randomBytes(8).toString('hex')
export const BOT_TOKEN = 'bot-token-' + randomBytes(8).toString('hex')
/** Shared by every test server, as SECRETS_KEY must be by instances sharing a database (they read each other's sealed bot tokens). */
export const SECRETS_KEY = randomBytes(32).toString('base64')

/** A space whose only content is a public welcome text, seeded on the server as production seeds: what a Mini App reader of `<space>/public` reads. */
export async function seedPublicWelcome(server: BotsyncServer, space: string, text = 'Hello'): Promise<void> {
  await server.writer.change(docName.settings(space), (doc) => {
    initSettingsDoc(doc)
    setSettingsText(doc, 'welcome', text)
    setTextPublic(doc, 'welcome', true)
  })
}

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

export { login, loginSession, refreshSession, ServerProcess }
export type { RefreshAnswer, TestSession } from './login.ts'

export type TestRole = 'owner' | 'editor' | 'viewer'

/** A JSON answer of the server's HTTP API, parsed (null for an empty body). */
export interface ApiAnswer {
  status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the route answers
  body: any
  headers: Headers
}

/** One request to the server's /api as an admin would send it: Bearer token (if any), a JSON body (a string is sent as it is). */
export async function apiRequest(server: BotsyncServer, method: string, path: string, token?: string | null, body?: unknown): Promise<ApiAnswer> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers }
}

/** The password of every user memberOf creates. */
export const TEST_PASSWORD = 'correct horse'

/**
 * Creates a user straight in the database, ensures `space`'s row, makes the
 * user a member with `role` there and logs in. Roles are per space: the user
 * may open that space's documents and no other's.
 */
export async function memberOf(server: BotsyncServer, space: string, role: TestRole): Promise<{ userId: string; email: string; password: string; token: string }> {
  const email = `${role}-${randomUUID()}@test.local`
  const user = await server.users.create({ email, password: TEST_PASSWORD })
  await server.spaces.ensure(space)
  await server.members.add(space, user.id, role)
  const token = await login(`http://127.0.0.1:${server.port}`, email, TEST_PASSWORD)
  return { userId: user.id, email, password: TEST_PASSWORD, token }
}

/** A token of a new user who is `role` in `space` (see memberOf). */
export async function userToken(server: BotsyncServer, role: TestRole, space: string): Promise<string> {
  return (await memberOf(server, space, role)).token
}

/** Adds an existing user to `space` with `role` (ensuring the space's row). */
export async function addMember(server: BotsyncServer, space: string, userId: string, role: TestRole): Promise<void> {
  await server.spaces.ensure(space)
  await server.members.add(space, userId, role)
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

/**
 * Makes the existing user of `email` a member of `space` (creating the
 * space's row), straight in the database: for servers running as their own
 * processes (spawnServer), whose ADMIN_EMAIL owner writes to made-up spaces.
 */
export async function joinSpace(email: string, space: string, role: TestRole = 'owner', databaseUrl = DATABASE_URL): Promise<void> {
  const db = await openDatabase({ databaseUrl })
  try {
    await db.query('INSERT INTO spaces (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING', [space])
    const rows = await db.query(
      `INSERT INTO space_members (space, user_id, role) SELECT $1, id, $3 FROM users WHERE email = $2 ON CONFLICT (space, user_id) DO UPDATE SET role = $3 RETURNING user_id`,
      [space, email.toLowerCase(), role],
    )
    if (rows.length === 0) throw new Error(`joinSpace: no user ${email}`)
  } finally {
    await db.close()
  }
}

/** A new space `email` is an owner of (see joinSpace). */
export async function ownSpace(email: string, databaseUrl = DATABASE_URL): Promise<string> {
  const space = uniqueSpace()
  await joinSpace(email, space, 'owner', databaseUrl)
  return space
}
