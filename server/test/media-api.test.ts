import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { demoSeed, docName, getCurrentRelease, projectMediaLibrary, setStepMedia, LIMITS } from '@botsync/shared-docs'
import { apiRequest, BOT_TOKEN, connect, memberOf, startServer, synced, testEnv, uniqueSpace, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'
import { elfBytes, gifBytes, pdfBytes, pngBytes, streamUpload, uploadMedia, wavBytes } from '@botsync/testkit/media'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { loadConfig } from '../src/config.ts'
import { spaceServiceToken } from '../src/auth/bot-service-tokens.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('the media store: POST/GET /api/spaces/:space/media', () => {
  let server: BotsyncServer
  let base: string
  const space = uniqueSpace()
  let editor: Awaited<ReturnType<typeof memberOf>>
  let viewer: Awaited<ReturnType<typeof memberOf>>
  const clients: TestClient[] = []

  /** The space's library as the settings document holds it now. */
  async function library(of = space) {
    const doc = new Y.Doc()
    const state = await server.writer.read(docName.settings(of))
    if (state) Y.applyUpdate(doc, state)
    return projectMediaLibrary(doc)
  }

  beforeAll(async () => {
    server = await startServer()
    base = `http://127.0.0.1:${server.port}`
    editor = await memberOf(server, space, 'editor')
    viewer = await memberOf(server, space, 'viewer')
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server.stop()
  })

  it('stores a PNG by its content, with its pixel size; the library entry reaches an open admin live; the same bytes again are the same id and one row', async () => {
    const admin = connect(wsUrlOf(server), docName.settings(space), viewer.token)
    clients.push(admin)
    await synced(admin)
    const png = pngBytes(3, 2)
    const first = await uploadMedia(base, space, editor.token, { bytes: png, name: 'C:\\photos\\shop.png', type: 'image/png' })
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ id: sha256(png), kind: 'photo', mime: 'image/png', bytes: png.length, width: 3, height: 2 })
    expect(await server.media.count(space)).toBe(1)
    const entry = { kind: 'photo', mime: 'image/png', bytes: png.length, name: 'shop.png', width: 3, height: 2 }
    expect(await library()).toEqual({ [sha256(png)]: entry })
    await waitFor(() => projectMediaLibrary(admin.doc)[sha256(png)] !== undefined, 'the library entry to reach the open settings document')
    expect(projectMediaLibrary(admin.doc)[sha256(png)]).toEqual(entry)

    // Declared type and name are not what decides: the same bytes as "other.bin", octet-stream.
    const again = await uploadMedia(base, space, editor.token, { bytes: png, name: 'other.bin' })
    expect(again).toMatchObject({ status: 200, body: first.body })
    expect(await server.media.count(space)).toBe(1)
    // The first upload's name stays.
    expect((await library())[sha256(png)].name).toBe('shop.png')
  })

  it('refuses a .jpg that is really an executable with a reason; nothing is stored, no library entry', async () => {
    const before = await library()
    const answer = await uploadMedia(base, space, editor.token, { bytes: elfBytes(), name: 'holiday.jpg', type: 'image/jpeg' })
    expect(answer.status).toBe(415)
    expect(answer.body.error).toBe('media-type-unsupported')
    expect(answer.body.message).toMatch(/executable/)
    const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM media_files WHERE space = $1 AND sha256 = $2', [
      space,
      Buffer.from(sha256(elfBytes()), 'hex'),
    ])
    expect(row.n).toBe(0)
    expect(await library()).toEqual(before)
  })

  it('types audio and documents by content too, with the duration of audio', async () => {
    const wav = wavBytes(3)
    expect(await uploadMedia(base, space, editor.token, { bytes: wav, name: 'jingle.pdf', type: 'application/pdf' })).toMatchObject({
      status: 200,
      body: { id: sha256(wav), kind: 'audio', mime: 'audio/wav', bytes: wav.length, duration: 3 },
    })
    const pdf = pdfBytes()
    expect(await uploadMedia(base, space, editor.token, { bytes: pdf, name: 'menu.wav' })).toMatchObject({ status: 200, body: { kind: 'document', mime: 'application/pdf' } })
  })

  it('refuses unknown bytes, an empty form and a form that is not multipart', async () => {
    const stored = await server.media.count(space)
    const noise = new Uint8Array(Buffer.from('just some text, no magic number here\n'.repeat(20)))
    expect(await uploadMedia(base, space, editor.token, { bytes: noise, name: 'notes.png', type: 'image/png' })).toMatchObject({
      status: 415,
      body: { error: 'media-type-unsupported' },
    })
    const empty = await fetch(`${base}/api/spaces/${space}/media`, { method: 'POST', headers: { authorization: `Bearer ${editor.token}` }, body: new FormData() })
    expect(empty.status).toBe(400)
    expect((await empty.json()).error).toBe('media-file-missing')
    const json = await fetch(`${base}/api/spaces/${space}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor.token}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(json.status).toBe(415)
    expect((await json.json()).error).toBe('invalid-upload')
    expect(await server.media.count(space)).toBe(stored)
  })

  it('refuses a 60 MB upload streamed without Content-Length at the 50 MB cap, with a reason, and stores nothing', async () => {
    const before = await server.media.count(space)
    const answer = await streamUpload(base, space, editor.token, pdfBytes(), 60 * 1024 * 1024, 'huge.pdf')
    expect(answer.status).toBe(413)
    expect(answer.body).toMatchObject({ error: 'media-too-large' })
    expect(answer.body.message).toMatch(/larger than 50 MB/)
    expect(await server.media.count(space)).toBe(before)
    // The server answered once the cap was passed, before the client had sent the whole body (it stops when the answer comes).
    expect(answer.sentBytes).toBeLessThan(60 * 1024 * 1024 - pdfBytes().length)
    // And the server still takes uploads.
    expect((await uploadMedia(base, space, editor.token, { bytes: gifBytes(), name: 'dance.gif' })).body).toMatchObject({ kind: 'animation', width: 1, height: 1 })
  })

  it('refuses a declared Content-Length over the cap before a byte of the body is sent', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${base}/api/spaces/${space}/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${editor.token}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(60 * 1024 * 1024) },
      })
      req.on('response', (response) => {
        let body = ''
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body })
          req.destroy()
        })
      })
      req.on('error', reject)
      // Headers only: the body never comes.
      req.flushHeaders()
    })
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body).error).toBe('media-too-large')
  })

  it("refuses a photo over Telegram's 10 MB photo limit, and takes it as a document when asked", async () => {
    const stored = await server.media.count(space)
    const head = pngBytes(4, 4, 7)
    // A real PNG header followed by padding (image-size reads the header; file-type the signature).
    const big = new Uint8Array(LIMITS.photoBytes + 1)
    big.set(head)
    const refused = await uploadMedia(base, space, editor.token, { bytes: big, name: 'big.png' })
    expect(refused.status).toBe(413)
    expect(refused.body.error).toBe('media-too-large')
    expect(refused.body.message).toMatch(/photo may be at most 10 MB/)
    expect(await server.media.count(space)).toBe(stored)
    const asDocument = await uploadMedia(base, space, editor.token, { bytes: big, name: 'big.png' }, { kind: 'document' })
    expect(asDocument).toMatchObject({ status: 200, body: { id: sha256(big), kind: 'document', mime: 'image/png' } })
    // The library keeps what the content is; the step's media item says how it is sent.
    expect((await library())[sha256(big)]).toMatchObject({ kind: 'photo' })
    expect(await uploadMedia(base, space, editor.token, { bytes: pngBytes(1, 1, 9), name: 'x.png' }, { kind: 'voice' })).toMatchObject({
      status: 400,
      body: { error: 'invalid-upload' },
    })
  })

  it('a viewer may not upload (403, the read-only refusal), nor anyone without a token', async () => {
    const png = pngBytes(5, 5, 3)
    const answer = await uploadMedia(base, space, viewer.token, { bytes: png, name: 'v.png' })
    expect(answer.status).toBe(403)
    expect(answer.body.error).toBe('read-only')
    expect((await uploadMedia(base, space, '', { bytes: png, name: 'v.png' })).status).toBe(401)
    const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM media_files WHERE space = $1 AND sha256 = $2', [space, Buffer.from(sha256(png), 'hex')])
    expect(row.n).toBe(0)
  })

  it('a space being deleted takes no uploads (409 space-deleting), and stores nothing', async () => {
    const doomed = uniqueSpace()
    const owner = await memberOf(server, doomed, 'owner')
    expect((await apiRequest(server, 'DELETE', `/api/spaces/${doomed}`, owner.token, { confirm: doomed })).status).toBe(200)
    expect(await uploadMedia(base, doomed, owner.token, { bytes: pngBytes(2, 3, 61), name: 'late.png' })).toMatchObject({ status: 409, body: { error: 'space-deleting' } })
    expect(await server.media.count(doomed)).toBe(0)
  })

  it('GET serves the bytes with Content-Type, ETag (If-None-Match → 304), Cache-Control private and byte ranges (206, 416)', async () => {
    const png = pngBytes(6, 6, 11)
    const { body } = await uploadMedia(base, space, editor.token, { bytes: png, name: 'range.png' })
    const url = `${base}/api/spaces/${space}/media/${body.id}`
    const auth = { authorization: `Bearer ${viewer.token}` }

    const whole = await fetch(url, { headers: auth })
    expect(whole.status).toBe(200)
    expect(whole.headers.get('content-type')).toBe('image/png')
    expect(whole.headers.get('etag')).toBe(`"${sha256(png)}"`)
    expect(whole.headers.get('cache-control')).toMatch(/^private/)
    expect(whole.headers.get('accept-ranges')).toBe('bytes')
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(png)

    const cached = await fetch(url, { headers: { ...auth, 'if-none-match': `"${sha256(png)}"` } })
    expect(cached.status).toBe(304)
    expect(await cached.text()).toBe('')
    expect((await fetch(url, { headers: { ...auth, 'if-none-match': '"something-else"' } })).status).toBe(200)

    const part = await fetch(url, { headers: { ...auth, range: 'bytes=8-23' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 8-23/${png.length}`)
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(png.subarray(8, 24))
    const tail = await fetch(url, { headers: { ...auth, range: 'bytes=-5' } })
    expect(tail.status).toBe(206)
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(png.subarray(png.length - 5))

    const outside = await fetch(url, { headers: { ...auth, range: `bytes=${png.length + 10}-` } })
    expect(outside.status).toBe(416)
    expect(outside.headers.get('content-range')).toBe(`bytes */${png.length}`)

    const head = await fetch(url, { method: 'HEAD', headers: auth })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(png.length))
  })

  it("the space's bot reads its files; another space's bot, another space's member and unknown ids get nothing", async () => {
    const png = pngBytes(2, 2, 21)
    const { body } = await uploadMedia(base, space, editor.token, { bytes: png, name: 'bot.png' })
    const url = `${base}/api/spaces/${space}/media/${body.id}`
    const asBot = await fetch(url, { headers: { authorization: `Bearer ${spaceServiceToken(BOT_TOKEN, space)}` } })
    expect(asBot.status).toBe(200)
    expect(new Uint8Array(await asBot.arrayBuffer())).toEqual(png)

    const other = uniqueSpace()
    const otherOwner = await memberOf(server, other, 'owner')
    const otherBot = await fetch(url, { headers: { authorization: `Bearer ${spaceServiceToken(BOT_TOKEN, other)}` } })
    expect(otherBot.status).toBe(403)
    expect((await otherBot.json()).error).toBe('forbidden-space')
    expect((await fetch(url, { headers: { authorization: `Bearer ${otherOwner.token}` } })).status).toBe(403)
    // Another space's media through a space one is a member of: 404, like an id that does not exist.
    const across = await fetch(`${base}/api/spaces/${other}/media/${body.id}`, { headers: { authorization: `Bearer ${otherOwner.token}` } })
    expect(across.status).toBe(404)
    expect((await across.json()).error).toBe('media-not-found')
    expect((await fetch(`${base}/api/spaces/${space}/media/not-a-hash`, { headers: { authorization: `Bearer ${viewer.token}` } })).status).toBe(404)
  })

  it('GET …/media lists the space’s files, newest first, for members', async () => {
    const listed = await fetch(`${base}/api/spaces/${space}/media`, { headers: { authorization: `Bearer ${viewer.token}` } })
    expect(listed.status).toBe(200)
    const { media } = await listed.json()
    expect(media.length).toBe(await server.media.count(space))
    expect(media.find((m: { name: string }) => m.name === 'shop.png')).toMatchObject({ kind: 'photo', mime: 'image/png', width: 3, height: 2 })
    expect(media.every((m: { id: string; createdAt: string }) => /^[0-9a-f]{64}$/.test(m.id) && !Number.isNaN(Date.parse(m.createdAt)))).toBe(true)
  })

  it('the library is part of the drafts and of a release (what the bot validates steps against in review mode)', async () => {
    const png = pngBytes(7, 7, 31)
    await uploadMedia(base, space, editor.token, { bytes: png, name: 'release.png' })
    expect((await server.draftProjections.of(space)).media?.[sha256(png)]).toMatchObject({ kind: 'photo', name: 'release.png' })
    expect((await apiRequest(server, 'POST', `/api/spaces/${space}/releases`, editor.token, { note: 'with media' })).status).toBe(201)
    const published = new Y.Doc()
    Y.applyUpdate(published, (await server.writer.read(docName.published(space)))!)
    const release = getCurrentRelease(published)
    expect(release?.content.media?.[sha256(png)]).toMatchObject({ kind: 'photo', width: 7, height: 7 })
    expect(Object.keys(release!.content.media!).sort()).toEqual(Object.keys(await library()).sort())
  })

  it('an export carries step media by id; importing it where the files are is clean, elsewhere it imports with media-missing warnings', async () => {
    const source = uniqueSpace()
    const owner = await memberOf(server, source, 'owner')
    for (const [name, update] of demoSeed(source)) await server.store.append(name, update)
    const png = pngBytes(8, 8, 41)
    await uploadMedia(base, source, owner.token, { bytes: png, name: 'finish.png' })
    await server.writer.change(docName.scenario(source, 'onboarding'), (doc) => void setStepMedia(doc, 'finish', { items: [{ id: sha256(png), kind: 'photo' }] }))
    const file = (await apiRequest(server, 'GET', `/api/spaces/${source}/export`, owner.token)).body
    const back = await apiRequest(server, 'POST', `/api/spaces/${source}/import`, owner.token, file)
    expect(back).toMatchObject({ status: 200, body: { changed: 0, warnings: [] } })

    const target = uniqueSpace()
    const targetOwner = await memberOf(server, target, 'owner')
    const elsewhere = await apiRequest(server, 'POST', `/api/spaces/${target}/import`, targetOwner.token, file)
    expect(elsewhere.status).toBe(200)
    expect(elsewhere.body.warnings).toEqual([expect.objectContaining({ code: 'media-missing', path: expect.stringMatching(/\.media\.items\[0\]\.id$/) })])
  })
})

describe('MEDIA_MAX_BYTES', () => {
  it("caps uploads below Telegram's limits, and refuses a value above them", async () => {
    const server = await startServer({ MEDIA_MAX_BYTES: '2000' })
    try {
      const space = uniqueSpace()
      const editor = await memberOf(server, space, 'editor')
      const base = `http://127.0.0.1:${server.port}`
      expect((await uploadMedia(base, space, editor.token, { bytes: pngBytes(2, 2, 51), name: 'small.png' })).status).toBe(200)
      const big = new Uint8Array(3000)
      big.set(pdfBytes())
      const refused = await uploadMedia(base, space, editor.token, { bytes: big, name: 'big.pdf' })
      expect(refused).toMatchObject({ status: 413, body: { error: 'media-too-large' } })
      expect(await server.media.count(space)).toBe(1)
    } finally {
      await server.stop()
    }
    expect(() => loadConfig(testEnv({ MEDIA_MAX_BYTES: String(LIMITS.fileBytes + 1) }))).toThrow(/MEDIA_MAX_BYTES must be between 1 and/)
  })
})
