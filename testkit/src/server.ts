// @botsync/testkit/server: the real botsync server for a test (in this process
// or as its own OS process) on the shared test database, with fresh secrets,
// spaces no other test uses, admin tokens and real @hocuspocus/provider clients.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import pino from 'pino'
import * as Y from 'yjs'
import { BotsyncServer, loadConfig } from '@botsync/server'
import { login } from './login.ts'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const JWT_SECRET = 'test-secret-' + randomBytes(8).toString('hex')
export const BOT_TOKEN = 'bot-token-' + randomBytes(8).toString('hex')
const SERVER_MAIN = createRequire(import.meta.url).resolve('@botsync/server/main')

/** A space name no other test uses, so tests share the database safely. */
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

export interface ServerProcess {
  child: ChildProcess
  port: number
  url: string
  wsUrl: string
  output: string[]
  exited: Promise<number | null>
}

/** The real server as its own OS process, for crash (SIGKILL) tests. */
export async function spawnServer(overrides: Record<string, string> = {}): Promise<ServerProcess> {
  const env = { ...process.env, ...testEnv({ LOG_LEVEL: 'info', ...overrides }) }
  const child = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.stderr!.on('data', (chunk) => output.push(String(chunk)))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join('')}`)), 30_000)
    exited.then((code) => reject(new Error(`server exited with ${code}:\n${output.join('')}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line)
      try {
        const entry = JSON.parse(line)
        if (entry.event === 'listening') {
          clearTimeout(timer)
          resolve(entry.port)
        }
      } catch {}
    })
  })
  return { child, port, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/collab`, output, exited }
}

export { login }

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
