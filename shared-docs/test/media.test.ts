import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { mediaByteLimit, mediaLibraryMap, parseMediaInfo, projectMediaLibrary, projectSpace, setMediaInfo, LIMITS, type MediaInfo } from '../src/index.ts'
import { demoDocs } from './helpers.ts'

const ID = 'ab'.repeat(32)
const PHOTO: MediaInfo = { kind: 'photo', mime: 'image/png', bytes: 1234, name: 'shop.png', width: 3, height: 2 }

describe('the media library (settings document, map `media`)', () => {
  it('records a file once: the same entry again writes no update', () => {
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    expect(setMediaInfo(doc, ID, PHOTO)).toBe(true)
    expect(setMediaInfo(doc, ID, { ...PHOTO })).toBe(false)
    expect(updates).toHaveLength(1)
    expect(projectMediaLibrary(doc)).toEqual({ [ID]: PHOTO })
  })

  it('refuses a malformed id or entry, and leaves out stored values that are not entries', () => {
    const doc = new Y.Doc()
    expect(() => setMediaInfo(doc, 'cat.jpg', PHOTO)).toThrow(TypeError)
    expect(() => setMediaInfo(doc, ID, { ...PHOTO, kind: 'sticker' as MediaInfo['kind'] })).toThrow(TypeError)
    mediaLibraryMap(doc).set('not-an-id', PHOTO)
    mediaLibraryMap(doc).set('cd'.repeat(32), { kind: 'photo', bytes: -1 })
    expect(projectMediaLibrary(doc)).toEqual({})
    // A width without a height is dropped, not half-kept.
    expect(parseMediaInfo({ ...PHOTO, height: undefined })).toEqual({ kind: 'photo', mime: 'image/png', bytes: 1234, name: 'shop.png' })
  })

  it('projects into SpaceJson.media only when the space has media, so other spaces project as before', () => {
    const docs = demoDocs()
    const before = projectSpace(docs)
    expect('media' in before).toBe(false)
    setMediaInfo(docs.settings, ID, PHOTO)
    const after = projectSpace(docs)
    expect(after.media).toEqual({ [ID]: PHOTO })
    expect({ ...after, media: undefined }).toEqual({ ...before, media: undefined })
  })

  it("uses Telegram's upload limits: 10 MB for photos, 50 MB for anything else", () => {
    expect(mediaByteLimit('photo')).toBe(LIMITS.photoBytes)
    expect(mediaByteLimit('document')).toBe(LIMITS.fileBytes)
    expect(mediaByteLimit('video')).toBe(LIMITS.fileBytes)
  })
})
