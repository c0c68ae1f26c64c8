// A whole botsync installation per test: the real server (in this process)
// on a space of its own, seeded server-side with the demo content, the fake
// Bot API, and the real bot started against both.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { demoSeed } from '@botsync/shared-docs'
import pino from 'pino'
import type { BotsyncServer } from '@botsync/server'
import { BOT_TOKEN, DATABASE_URL, connect, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'
import type { Logger } from '../src/logger.ts'
import { PgPoolClient } from '../src/session/pg-pool-client.ts'
import type { BotConfig } from '../src/config.ts'
import { startBot, type BotHandle, type StartBotOptions } from '../src/start-bot.ts'
import { FakeBotApi, type RecordedCall, type SimUser } from '@botsync/testkit/fake-bot-api'

export { connect, synced, waitFor, wsUrlOf, userToken, DATABASE_URL, BOT_TOKEN, uniqueSpace, startServer }

export const TELEGRAM_TOKEN = '123456:TEST-token_abc'

/** pino writing JSON lines into an array, so tests can check what the bot logged. */
export function captureLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { log: pino({ level: 'debug' }, stream), lines }
}

/** Stores the demo content of `space` the way the server seeds: appended on the server, never from a client. */
export async function seedSpace(server: BotsyncServer, space: string): Promise<void> {
  // A bot may read only a space that exists (the server ensures BOT_SPACE's row at start; this covers other spaces).
  await server.spaces.ensure(space)
  for (const [name, update] of demoSeed(space)) await server.store.append(name, update)
}

export interface SceneOptions {
  bot?: StartBotOptions
  /** Extra bot configuration (e.g. miniAppUrl). */
  config?: Partial<BotConfig>
  /** Do not start the bot (the test starts it). */
  withoutBot?: boolean
  /** Stores the space's content instead of the demo seed. */
  seed?: (server: BotsyncServer, space: string) => Promise<void>
}

/** The server, the fake Bot API and the bot of one test; `close()` stops what is still running. */
export class Scene {
  readonly space: string
  readonly api: FakeBotApi
  readonly sessions: PgPoolClient
  readonly replicaFile: string
  readonly logs: ReturnType<typeof captureLogger>
  server: BotsyncServer
  port: number
  bot: BotHandle | undefined
  private readonly botOptions: StartBotOptions
  private readonly botConfig: Partial<BotConfig>
  private readonly clients: TestClient[] = []

  private constructor(space: string, server: BotsyncServer, api: FakeBotApi, options: SceneOptions) {
    this.space = space
    this.server = server
    this.port = server.port
    this.api = api
    this.sessions = new PgPoolClient(DATABASE_URL)
    this.replicaFile = join(mkdtempSync(join(tmpdir(), 'botsync-bot-')), 'replica.json')
    this.logs = captureLogger()
    this.botOptions = options.bot ?? {}
    this.botConfig = options.config ?? {}
  }

  static async start(options: SceneOptions = {}): Promise<Scene> {
    const space = uniqueSpace()
    const server = await startServer({ BOT_SPACE: space })
    await (options.seed ?? seedSpace)(server, space)
    const api = new FakeBotApi({ token: TELEGRAM_TOKEN })
    await api.start()
    const scene = new Scene(space, server, api, options)
    if (!options.withoutBot) await scene.startBot()
    return scene
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/collab`
  }

  async startBot(): Promise<BotHandle> {
    this.bot = await startBot(
      {
        telegramToken: TELEGRAM_TOKEN,
        telegramApiRoot: this.api.apiRoot,
        serverUrl: this.wsUrl,
        serviceToken: BOT_TOKEN,
        space: this.space,
        replicaFile: this.replicaFile,
        logLevel: 'debug',
        ...this.botConfig,
      },
      {
        sessions: this.sessions,
        log: this.logs.log,
        activityFlushMs: 100,
        replicaSaveDelayMs: 50,
        maxReconnectDelayMs: 500,
        ...this.botOptions,
      },
    )
    return this.bot
  }

  async stopBot(): Promise<void> {
    await this.bot?.stop()
    this.bot = undefined
  }

  /** Stops the server (the bot keeps running on its replica). */
  async stopServer(): Promise<void> {
    await this.server.stop()
  }

  /** A new server process on the same port and database. */
  async restartServer(): Promise<void> {
    this.server = await startServer({ BOT_SPACE: this.space, PORT: String(this.port) })
  }

  /** A real admin provider on a document of this space, synced. */
  async admin(kind: string, role: 'owner' | 'editor' | 'viewer' = 'editor'): Promise<TestClient> {
    const client = connect(wsUrlOf(this.server), `${this.space}/${kind}`, await userToken(this.server, role, this.space))
    this.clients.push(client)
    await synced(client)
    return client
  }

  /** Does `act` and returns the bot's next message (sent or edited) to `user`. */
  async reply(user: SimUser, act: () => void, predicate?: (call: RecordedCall) => boolean): Promise<RecordedCall> {
    const since = this.api.mark()
    act()
    return this.api.nextMessageTo(user.id, { since, predicate, timeoutMs: 10_000 })
  }

  /** Log lines with this `event`. */
  logged(event: string): Record<string, unknown>[] {
    return this.logs.lines.filter((line) => line.event === event)
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.destroy()
    await this.stopBot().catch(() => {})
    await this.api.stop()
    await this.server.stop().catch(() => {})
    await this.sessions.close()
  }
}

/** Button rows of a recorded message as [text, callback_data | url] pairs. */
export function buttonsOf(call: RecordedCall): [string, string][][] {
  return (call.message?.reply_markup?.inline_keyboard ?? []).map((row) => row.map((b) => [b.text, (b.callback_data ?? b.url ?? b.web_app?.url ?? '') as string]))
}

export { waitFor as until }
