// Several fake bots behind one Bot API root, as Telegram is: each token is
// its own bot (id, username, chats, updates), routed by the token in
// /bot<token>/<method>; an unknown token answers 401 Unauthorized. For a
// server running one bot per space against one TELEGRAM_API_ROOT.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FakeBotApi } from './fake-bot-api.ts'
import type { FakeBotApiOptions } from './types.ts'

export class FakeTelegram {
  private readonly bots = new Map<string, FakeBotApi>()
  private server: Server | undefined
  private root: string | undefined

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const token = /^\/bot([^/]*)\//.exec(new URL(req.url ?? '/', 'http://127.0.0.1').pathname)?.[1]
      const bot = token === undefined ? undefined : this.bots.get(decodeURIComponent(token))
      if (!bot) {
        req.resume()
        const status = token === undefined ? 404 : 401
        const body = JSON.stringify({ ok: false, error_code: status, description: status === 401 ? 'Unauthorized' : 'Not Found' })
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
        return
      }
      bot.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(JSON.stringify({ ok: false, error_code: 500, description: `Internal Server Error: ${String(error)}` }))
      })
    })
    this.server = server
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    this.root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  get apiRoot(): string {
    if (!this.root) throw new Error('FakeTelegram: not started')
    return this.root
  }

  /** A new bot answering at this root under `options.token` (its id is the token's number). */
  bot(options: FakeBotApiOptions): FakeBotApi {
    if (this.bots.has(options.token)) throw new Error('FakeTelegram: a bot with this token exists')
    const bot = new FakeBotApi(options)
    bot.attach(this.apiRoot)
    this.bots.set(options.token, bot)
    return bot
  }

  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    for (const bot of this.bots.values()) bot.detach()
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
      setImmediate(() => server.closeAllConnections())
    })
    this.server = undefined
  }
}
