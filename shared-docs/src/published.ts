// The `<space>/published` document: what the bot answers from. The server is
// its only writer (publishing a release, setting the publish mode); the bot
// replicates it like its other documents, admins may read it.
//
//   doc.getMap('published'):
//     mode:     'live' | 'review'       absent: 'live'
//   doc.getMap('releases'):             String(number) → deflated JSON of a PublishedRelease
//   (documents written before: a Y.Map under published.releases, JSON strings)
//
// A release is one map value, so it arrives in one update: the bot switches
// from one whole release to the next and never answers from a mix. Two
// instances publishing at once each set their own number's key; the current
// release is the highest number present, so both orders of arrival agree.
import { deflateSync, inflateSync, strFromU8, strToU8 } from 'fflate'
import * as Y from 'yjs'
import type { SpaceJson } from './types.ts'
import { asMap } from './ytypes.ts'

export const PUBLISH_MODES = ['live', 'review'] as const
export type PublishMode = (typeof PUBLISH_MODES)[number]

export function isPublishMode(value: unknown): value is PublishMode {
  return typeof value === 'string' && (PUBLISH_MODES as readonly string[]).includes(value)
}

/** One release as the bot reads it: the projection of the space's content documents at publish time. */
export interface PublishedRelease {
  number: number
  /** versions.id of the release. */
  versionId: string
  /** ISO 8601. */
  createdAt: string
  content: SpaceJson
}

function root(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('published')
}

/**
 * The releases, a root map of their own: two instances publishing the first
 * releases at once each set their key in the same map. (A map nested under
 * 'published', as documents written before have, is created by whoever
 * writes first; two created at once conflict and one of them is lost.)
 */
function releasesRoot(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('releases')
}

/** Where documents written before keep their releases. */
function legacyReleases(doc: Y.Doc): Y.Map<unknown> | null {
  return asMap(root(doc).get('releases')) ?? null
}

function releaseMaps(doc: Y.Doc): Y.Map<unknown>[] {
  const legacy = legacyReleases(doc)
  return legacy ? [releasesRoot(doc), legacy] : [releasesRoot(doc)]
}

/** Calls `onChange` after every change of the mode or the releases (for readers that follow them); returns the unsubscribe. */
export function observePublished(doc: Y.Doc, onChange: () => void): () => void {
  const roots = [root(doc), releasesRoot(doc)]
  for (const type of roots) type.observeDeep(onChange)
  return () => {
    for (const type of roots) type.unobserveDeep(onChange)
  }
}

export function getPublishMode(doc: Y.Doc): PublishMode {
  const mode = root(doc).get('mode')
  return isPublishMode(mode) ? mode : 'live'
}

/** Server only. */
export function setPublishMode(doc: Y.Doc, mode: PublishMode): void {
  if (root(doc).get('mode') !== mode) root(doc).set('mode', mode)
}

/** The highest release number present, or null when nothing was published. */
export function currentReleaseNumber(doc: Y.Doc): number | null {
  let best: number | null = null
  for (const key of releaseMaps(doc).flatMap((map) => [...map.keys()])) {
    const n = Number(key)
    if (Number.isSafeInteger(n) && n > 0 && (best === null || n > best)) best = n
  }
  return best
}

/** The current release, or null when there is none or its value is unreadable. */
export function getCurrentRelease(doc: Y.Doc): PublishedRelease | null {
  const n = currentReleaseNumber(doc)
  if (n === null) return null
  const raw = releaseMaps(doc)
    .map((map) => map.get(String(n)))
    .find((value) => value !== undefined)
  try {
    // Deflated JSON since releases are written compressed; plain JSON in documents written before.
    const text = raw instanceof Uint8Array ? strFromU8(inflateSync(raw)) : raw
    if (typeof text !== 'string') return null
    const value = JSON.parse(text) as PublishedRelease
    if (value?.number !== n || typeof value.content !== 'object' || value.content === null) return null
    return value
  } catch {
    return null
  }
}

/**
 * A release as the document stores it: its JSON, deflated (raw DEFLATE). A
 * release is the whole space, and every release adds one to the document's
 * log; its JSON deflates to a fraction. `deflate` defaults to fflate's
 * (synchronous and dependency-free, so it runs anywhere shared-docs does);
 * the server passes Node's native zlib, which is several times faster.
 */
export function encodeRelease(release: PublishedRelease, deflate: (bytes: Uint8Array) => Uint8Array = (bytes) => deflateSync(bytes)): Uint8Array {
  const bytes = deflate(strToU8(JSON.stringify(release)))
  // Yjs stores binary content only as a plain Uint8Array (a Node Buffer is refused): a view, not a copy.
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Server only: makes `release` the current release unless a higher one is
 * already there, and drops the lower ones (the versions table keeps them).
 * `encoded`: encodeRelease(release), when the caller made it already.
 */
export function putRelease(doc: Y.Doc, release: PublishedRelease, encoded?: Uint8Array): void {
  doc.transact(() => {
    const current = currentReleaseNumber(doc)
    if (current !== null && current >= release.number) return
    const releases = releasesRoot(doc)
    for (const key of [...releases.keys()]) releases.delete(key)
    if (legacyReleases(doc)) root(doc).delete('releases')
    releases.set(String(release.number), encoded ?? encodeRelease(release))
  })
}
