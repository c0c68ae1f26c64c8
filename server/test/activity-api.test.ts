import { counterKey, demoSeed, docName, projectActivity } from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { BOT_TOKEN, connect, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'

let server: BotsyncServer
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy()
  await server?.stop()
})

async function post(body: unknown, token?: string, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/activity`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, body: await response.json() }
}

describe('POST /api/activity', () => {
  it('only the bot may report', async () => {
    server = await startServer({ BOT_SPACE: uniqueSpace() })
    const events = [{ type: 'user_started', at: 1 }]
    expect(await post({ events })).toMatchObject({ status: 401, body: { error: 'missing-token' } })
    expect(await post({ events }, 'not-a-token')).toMatchObject({ status: 401, body: { error: 'invalid-token' } })
    expect(await post({ events }, await userToken(server, 'owner', uniqueSpace()))).toMatchObject({ status: 403, body: { error: 'forbidden' } })
  })

  it('refuses a malformed body with a clear error', async () => {
    server = await startServer({ BOT_SPACE: uniqueSpace() })
    expect(await post({ nope: true }, BOT_TOKEN)).toMatchObject({ status: 400, body: { error: 'invalid-request' } })
    expect(await post('{broken', BOT_TOKEN)).toMatchObject({ status: 400, body: { error: 'invalid-json' } })
    expect(await post({ events: [] }, BOT_TOKEN, 'text/plain')).toMatchObject({ status: 415 })
    const tooMany = Array.from({ length: 1001 }, () => ({ type: 'user_started', at: 1 }))
    expect(await post({ events: tooMany }, BOT_TOKEN)).toMatchObject({ status: 413, body: { error: 'too-many-events' } })
  })

  it("applies the bot's batch to <space>/activity, which admins see live", async () => {
    const space = uniqueSpace()
    server = await startServer({ BOT_SPACE: space })
    for (const [name, update] of demoSeed(space)) await server.store.append(name, update)
    const admin = connect(wsUrlOf(server), docName.activity(space), await userToken(server, 'viewer', space))
    clients.push(admin)
    await synced(admin)

    const result = await post(
      {
        events: [
          { type: 'user_started', at: 1 },
          { type: 'button_pressed', at: 2, buttonId: 'start' },
          { type: 'button_pressed', at: 3, buttonId: 'bad id!' },
          { type: 'step_reached', at: 4, scenarioId: 'onboarding', stepId: 'welcome' },
          { type: 'button_pressed', at: 5, buttonId: 'start' },
        ],
      },
      BOT_TOKEN,
    )
    expect(result).toEqual({ status: 200, body: { accepted: 4, rejected: [2] } })

    await waitFor(() => projectActivity(admin.doc).counters[counterKey.buttonPressed('start')] === 2, 'the admin to see the counters')
    const activity = projectActivity(admin.doc)
    expect(activity.counters[counterKey.usersStarted]).toBe(1)
    expect(activity.counters[counterKey.stepReached('onboarding', 'welcome')]).toBe(1)
    expect(activity.events.map((e) => e.at)).toEqual([1, 2, 4, 5])
    // Committed before it was applied: the database has it too.
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await server.store.load(docName.activity(space))).state!)
    expect(projectActivity(stored)).toEqual(activity)
  })
})
