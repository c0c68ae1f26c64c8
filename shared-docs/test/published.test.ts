import { deflateRawSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  currentReleaseNumber,
  encodeRelease,
  getCurrentRelease,
  getPublishMode,
  observePublished,
  projectSpace,
  putRelease,
  setPublishMode,
  type PublishedRelease,
} from '../src/index.ts'
import { demoDocs } from './helpers.ts'

function release(number: number): PublishedRelease {
  return { number, versionId: `v${number}`, createdAt: '2026-12-01T10:00:00.000Z', content: projectSpace(demoDocs()) }
}

describe('<space>/published', () => {
  it('keeps the highest release only, whichever order two publishes arrive in', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    putRelease(a, release(2))
    putRelease(b, release(3))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    let changes = 0
    const stop = observePublished(a, () => changes++)
    for (const doc of [a, b]) {
      expect(currentReleaseNumber(doc)).toBe(3)
      expect(getCurrentRelease(doc)).toEqual(release(3))
    }
    // An older release arriving late changes nothing.
    putRelease(a, release(1))
    expect(getCurrentRelease(a)?.number).toBe(3)
    expect(getPublishMode(a)).toBe('live')
    setPublishMode(a, 'review')
    expect(getPublishMode(a)).toBe('review')
    putRelease(a, release(4))
    expect(changes).toBe(2)
    stop()
  })

  it('stores a release deflated, a fraction of its JSON, and still reads releases written as JSON text', () => {
    const doc = new Y.Doc()
    putRelease(doc, release(1))
    const json = JSON.stringify(release(1))
    const update = Y.encodeStateAsUpdate(doc)
    expect(update.byteLength).toBeLessThan(json.length / 2)

    // A document written before: releases as JSON text in a map under 'published'.
    const older = new Y.Doc()
    const releases = new Y.Map<unknown>()
    older.getMap('published').set('releases', releases)
    releases.set('4', JSON.stringify(release(4)))
    expect(getCurrentRelease(older)).toEqual(release(4))
    // Unreadable values are no release, not an exception.
    releases.set('5', new Uint8Array([1, 2, 3]))
    expect(getCurrentRelease(older)).toBeNull()
    // The next release moves it to the new place.
    putRelease(older, release(6))
    expect(getCurrentRelease(older)).toEqual(release(6))
    expect(older.getMap('published').has('releases')).toBe(false)
  })

  it('reads a release the server deflated with Node’s zlib (a Buffer, stored as a plain Uint8Array)', () => {
    const doc = new Y.Doc()
    putRelease(
      doc,
      release(7),
      encodeRelease(release(7), (bytes) => deflateRawSync(bytes)),
    )
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
    expect(getCurrentRelease(copy)).toEqual(release(7))
  })
})
