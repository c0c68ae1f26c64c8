// Stand-alone bot: `node bot/src/main.ts` (or `npm start -w bot`), configured
// by environment variables (README). `npm start` at the root runs the bot
// inside the server process instead when TELEGRAM_BOT_TOKEN is set.
import { loadBotConfig } from './config.ts'
import { createLogger } from './logger.ts'
import { startBot } from './start-bot.ts'

let config: ReturnType<typeof loadBotConfig>
try {
  config = loadBotConfig()
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
const log = createLogger(config.logLevel)
const bot = await startBot(config, { log }).catch((error: unknown) => {
  log.fatal({ event: 'bot-start-failed', err: error }, 'the bot could not start')
  process.exit(1)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    bot
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error({ event: 'bot-stop-failed', err: error })
        process.exit(1)
      })
  })
}
