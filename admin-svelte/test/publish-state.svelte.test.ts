import { docName, putRelease, setPublishMode } from '@botsync/shared-docs'
import { describe, expect, it } from 'vitest'
import { PublishState } from '../src/lib/publish/publish-state.svelte.ts'
import { FakeApi } from './fake-api.ts'
import { LocalSource } from './local-source.ts'

const SPACE = 'coffee'
const base = `/api/spaces/${SPACE}`
const release = (number: number) => ({ id: `r${number}`, kind: 'release', number, author: null, createdAt: '2026-12-01T10:00:00.000Z', note: null })

describe('PublishState (the header’s Publish and Settings’ mode)', () => {
  it('re-reads the count when a release arrives in <space>/published, whoever published it', async () => {
    let unpublished = 3
    const api = new FakeApi().on(`GET ${base}/publish-status`, () => ({ body: { mode: 'review', release: release(1), unpublished } }))
    const source = new LocalSource()
    const state = new PublishState(source, SPACE, { token: () => 'jwt', fetch: api.fetch })
    expect(source.opened).toEqual([docName.published(SPACE)])
    await state.refresh()
    expect(state.unpublished).toBe(3)
    expect(state.mode).toBe('review')

    // Another admin publishes: the server writes the release into the published document.
    unpublished = 0
    const published = source.document(docName.published(SPACE)).doc
    putRelease(published, {
      number: 2,
      versionId: 'r2',
      createdAt: '2026-12-01T11:00:00.000Z',
      content: { settings: { texts: {}, flags: {}, mainMenu: [], publicTexts: [] }, buttons: {}, scenarios: {}, scenarioDocs: {} } as never,
    })
    await expect.poll(() => state.unpublished, { timeout: 3000 }).toBe(0)
    expect(api.callsTo(`GET ${base}/publish-status`)).toHaveLength(2)

    state.destroy()
    expect(source.released).toEqual([docName.published(SPACE)])
    // Destroyed: a later change no longer asks the server.
    setPublishMode(published, 'live')
    await new Promise((resolve) => setTimeout(resolve, 900))
    expect(api.callsTo(`GET ${base}/publish-status`)).toHaveLength(2)
  })

  it('publishes with the note, switches the mode, and says why the server refused', async () => {
    const api = new FakeApi()
      .on(`GET ${base}/publish-status`, { body: { mode: 'review', release: release(2), unpublished: 0 } })
      .on(`POST ${base}/releases`, { status: 201, body: release(2) })
      .on(`PUT ${base}/publish-mode`, { status: 403, body: { error: 'not-an-owner', message: 'x' } })
    const state = new PublishState(new LocalSource(), SPACE, { token: () => 'jwt', fetch: api.fetch })
    expect(await state.publish('  New welcome  ')).toEqual({ ok: true, release: release(2) })
    expect(api.callsTo(`POST ${base}/releases`)[0].body).toEqual({ note: 'New welcome' })
    await state.publish('')
    expect(api.callsTo(`POST ${base}/releases`)[1].body).toEqual({})
    expect(await state.setMode('live')).toEqual({ ok: false, message: 'Only an owner of this space can do that.' })
    expect(api.callsTo(`PUT ${base}/publish-mode`)[0].body).toEqual({ mode: 'live' })
    state.destroy()
  })
})
