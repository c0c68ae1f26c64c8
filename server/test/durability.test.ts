import { afterAll, describe, expect, it } from 'vitest'
import { connect, login, ownSpace, spawnServer, synced, uniqueSpace, waitFor, type ServerProcess } from '@botsync/testkit/server'

describe('durability', () => {
  const processes: ServerProcess[] = []
  afterAll(() => {
    for (const p of processes) p.child.kill('SIGKILL')
  })

  it('serves every acknowledged edit after the server process is killed with SIGKILL', async () => {
    const email = `durable-${uniqueSpace()}@test.local`
    const env = { ADMIN_EMAIL: email, ADMIN_PASSWORD: 'durable password' }
    const first = await spawnServer(env)
    processes.push(first)
    const name = `${await ownSpace(email)}/scenario/durable`
    const token = await login(first.url, email, 'durable password')

    const writer = connect(first.wsUrl, name, token)
    await synced(writer)
    const text = writer.doc.getText('log')
    for (let i = 0; i < 200; i++) {
      text.insert(text.length, `edit ${i};`)
      // Let the provider send each edit as its own update message.
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await waitFor(() => writer.provider.unsyncedChanges === 0, 'all 200 edits to be acknowledged')

    // Acknowledged means committed: kill the process without any chance to flush.
    first.child.kill('SIGKILL')
    await first.exited
    writer.destroy()

    const second = await spawnServer(env)
    processes.push(second)
    const reader = connect(second.wsUrl, name, await login(second.url, email, 'durable password'))
    await synced(reader)
    const served = reader.doc.getText('log').toString()
    const edits = served.split(';').filter(Boolean)
    expect(edits).toHaveLength(200)
    expect(edits[0]).toBe('edit 0')
    expect(edits[199]).toBe('edit 199')
    expect(served).toBe(text.toString())
    reader.destroy()
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })
})
