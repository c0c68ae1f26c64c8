import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { demoSeed } from '@botsync/shared-docs'
import { afterEach, expect, it } from 'vitest'
import { spawnServer, type ServerProcess } from '@botsync/testkit/server'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { BOT_TOKEN, DATABASE_URL, TELEGRAM_TOKEN, startServer, uniqueSpace, waitFor } from './helpers.ts'

let api: FakeBotApi | undefined
let server: ServerProcess | undefined
afterEach(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL')
  await api?.stop()
})

it('npm start (embedded PostgreSQL) runs the bot in the server process when TELEGRAM_BOT_TOKEN is set; sessions survive a restart', async () => {
  api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  // What `npm start` does on a fresh machine: no DATABASE_URL (PGlite in DATA_DIR), the demo space seeded.
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-embedded-'))
  const env = { DATABASE_URL: '', SEED_DEMO: 'true', BOT_SPACE: 'demo', DATA_DIR: dataDir, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot }
  const user = { id: 4001, first_name: 'Dana' }
  const ask = async (act: () => void) => {
    const since = api!.mark()
    act()
    return api!.nextMessageTo(user.id, { since, timeoutMs: 10_000 })
  }

  server = await spawnServer(env)
  // The bot logs once it polls; an update sent earlier would wait in the fake's queue anyway.
  await waitFor(() => server!.output.some((line) => line.includes('"bot-started"')), 'the embedded bot to start', 30_000)
  const welcome = await ask(() => api!.sendCommand(user, 'start'))
  expect(welcome.message!.text).toBe('Welcome to the botsync demo bot! Pick an option below.')
  const intro = await ask(() => api!.clickButton(user, welcome, 'b:start'))
  expect(intro.message!.text).toBe("Hi! Let's get you set up. It takes less than a minute.")

  server.child.kill('SIGTERM')
  expect(await server.exited).toBe(0)
  const logged = server.output.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>]
    } catch {
      return []
    }
  })
  expect(logged.some((entry) => entry.event === 'bot-started' && entry.component === 'bot' && entry.space === 'demo')).toBe(true)
  expect(logged.some((entry) => entry.event === 'bot-stopped')).toBe(true)
  // The replica was saved where the next start reads it.
  expect(existsSync(join(dataDir, 'bot-replica.json'))).toBe(true)

  // Started again on the same data: the user is still on the onboarding's first step.
  server = await spawnServer(env)
  await waitFor(() => server!.output.some((line) => line.includes('"bot-started"')), 'the embedded bot to start again', 30_000)
  const after = await ask(() => api!.sendText(user, 'hello?'))
  expect(after.message!.text).toBe("Sorry, I didn't get that. Send /start to see the menu.")
  expect(after.message!.reply_markup?.inline_keyboard.flat().map((b) => b.callback_data)).toEqual(['b:ob_continue', 'b:ob_later'])
})

it('the stand-alone bot (npm start -w bot) runs against a server and stops on SIGTERM; missing settings are a clear error', async () => {
  const space = uniqueSpace()
  const botsync = await startServer({ BOT_SPACE: space })
  try {
    for (const [name, update] of demoSeed(space)) await botsync.store.append(name, update)
    api = new FakeBotApi({ token: TELEGRAM_TOKEN })
    await api.start()
    const main = new URL('../src/main.ts', import.meta.url).pathname
    const missing = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH }, encoding: 'utf8' })
    expect(missing.status).not.toBe(0)
    expect(missing.stderr).toContain('the bot needs TELEGRAM_BOT_TOKEN, BOT_SERVER_URL, BOT_SERVICE_TOKEN')
    const required = { PATH: process.env.PATH, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, BOT_SERVER_URL: 'ws://127.0.0.1:1/collab', BOT_SERVICE_TOKEN: BOT_TOKEN }
    const insecure = spawnSync(process.execPath, [main], { env: { ...required, TELEGRAM_WEBHOOK_URL: 'http://bot.example/hook' }, encoding: 'utf8' })
    expect(insecure.status).not.toBe(0)
    expect(insecure.stderr).toContain('TELEGRAM_WEBHOOK_URL must be an https URL')
    const webhook = spawnSync(process.execPath, [main], { env: { ...required, TELEGRAM_WEBHOOK_URL: 'https://bot.example/hook' }, encoding: 'utf8' })
    expect(webhook.status).not.toBe(0)
    expect(webhook.stderr).toContain('TELEGRAM_WEBHOOK_URL needs an HTTP listener for the webhook')

    const env = {
      ...process.env,
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      TELEGRAM_API_ROOT: api.apiRoot,
      BOT_SERVER_URL: `ws://127.0.0.1:${botsync.port}/collab`,
      BOT_SERVICE_TOKEN: BOT_TOKEN,
      BOT_SPACE: space,
      DATABASE_URL,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'botsync-standalone-')),
    }
    const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const output: string[] = []
    child.stdout.on('data', (chunk) => output.push(String(chunk)))
    child.stderr.on('data', (chunk) => output.push(String(chunk)))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      await waitFor(() => output.join('').includes('"bot-started"'), 'the stand-alone bot to start', 20_000)
      const user = { id: 4002, first_name: 'Eve' }
      const since = api.mark()
      api.sendCommand(user, 'start', 'onboarding')
      const answer = await api.nextMessageTo(user.id, { since, timeoutMs: 10_000 })
      expect(answer.message!.text).toBe("Hi! Let's get you set up. It takes less than a minute.")
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(output.join('')).toContain('"bot-stopped"')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  } finally {
    await botsync.stop()
  }
})
