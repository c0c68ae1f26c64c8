import { BotsyncServer } from './botsync-server.ts'
import { loadConfig } from './config.ts'
import { logFatalErrors, routeConsoleToLog } from './console-log.ts'
import { startEmbeddedBot } from './embedded-bot.ts'
import { createLogger } from './logger.ts'

const config = loadConfig()
const log = createLogger(config.logLevel, config.instanceId)
// Every line on stdout is JSON, whoever writes it.
routeConsoleToLog(log)
logFatalErrors(log)
const { server, info } = await BotsyncServer.start(config, log)

// Humans read these two lines; everything else is structured JSON.
process.stderr.write(`\nbotsync is running: ${info.url}\n`)
if (info.generatedAdmin) {
  process.stderr.write(
    `First start: created owner ${info.generatedAdmin.email} with password ${info.generatedAdmin.password}\n` +
      `(shown once; set ADMIN_EMAIL and ADMIN_PASSWORD to create an owner of your choice)\n\n`,
  )
}

// Orchestrators SIGKILL a process that takes too long anyway; exiting first
// at least says why. Everything acknowledged is already committed.
const SHUTDOWN_LIMIT_MS = 20_000

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    setTimeout(() => {
      server.log.error({ event: 'shutdown-timeout', limitMs: SHUTDOWN_LIMIT_MS }, 'shutdown did not finish in time; exiting')
      process.exit(1)
    }, SHUTDOWN_LIMIT_MS).unref()
    // Stops the bots first (each finishes its running updates), then the server.
    server
      .stop()
      .then(() => process.exit(0))
      .catch((error) => {
        server.log.error({ event: 'shutdown-failed', err: error }, 'shutdown failed')
        process.exit(1)
      })
  })
}

// Every space's bot (and the bootstrap one). A bot that cannot start (say, a wrong token) is
// reported, and shown as failing on /health and in the admin; the server keeps serving the admins.
await startEmbeddedBot(server).catch((error: unknown) => {
  server.log.error({ event: 'bot-start-failed', err: error }, 'the bot did not start')
  process.stderr.write(`The Telegram bot did not start: ${error instanceof Error ? error.message : String(error)}\n`)
})
