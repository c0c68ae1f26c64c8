import { BotsyncServer } from './botsync-server.ts'
import { loadConfig } from './config.ts'

const config = loadConfig()
const { server, info } = await BotsyncServer.start(config)

// Humans read these two lines; everything else is structured JSON.
process.stderr.write(`\nbotsync is running: ${info.url}\n`)
if (info.generatedAdmin) {
  process.stderr.write(
    `First start: created owner ${info.generatedAdmin.email} with password ${info.generatedAdmin.password}\n` +
      `(shown once; set ADMIN_EMAIL and ADMIN_PASSWORD to create an owner of your choice)\n\n`,
  )
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server
      .stop()
      .then(() => process.exit(0))
      .catch((error) => {
        server.log.error({ err: error }, 'shutdown failed')
        process.exit(1)
      })
  })
}
