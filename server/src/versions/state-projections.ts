import { createHash } from 'node:crypto'
import {
  isValidId,
  projectButtons,
  projectMediaLibrary,
  projectScenario,
  projectScenarios,
  projectSettings,
  scratchDoc,
  type MediaInfo,
  type ScenarioJson,
  type SpaceJson,
} from '@botsync/shared-docs'
import * as Y from 'yjs'

/** Document states kept projected (a version of a 200-scenario space has 203; versions share most of them). */
const CACHED_STATES = 20_000

/** A content document of a space at some point: its kind ('settings', 'scenario/<id>', …) and the sha256 (hex) of its encoded state. */
export interface HashedDocument {
  kind: string
  hash: string
}

interface Piece {
  projection: unknown
  /** sha256 of Y.encodeSnapshot(Y.snapshot(doc)) (see VersionDocument). */
  snapshotHash: Uint8Array
}

/**
 * The media library's piece kind: the same settings state, projected with
 * projectMediaLibrary (SpaceJson.media) beside projectSettings.
 */
export const MEDIA_PIECE = 'settings#media'

/** What a document never written reads as. */
export const EMPTY_STATE = Y.encodeStateAsUpdate(scratchDoc())

export function stateHash(state: Uint8Array): string {
  return createHash('sha256').update(state).digest('hex')
}

/**
 * Projections of single document states, by kind and state hash. A space's
 * versions share most states (a release that changed one scenario shares the
 * other 199 with the one before), and the drafts share them with the latest
 * version, so each state is decoded, projected and snapshot-hashed once: a
 * publish or a change list decodes only the documents that changed.
 */
export class StateProjections {
  private readonly pieces = new Map<string, Piece>()

  /** The hashes of `documents` not projected yet (what a caller must read). */
  missing(documents: readonly HashedDocument[]): string[] {
    return [
      ...new Set(
        withMediaPiece(documents)
          .filter((d) => !this.pieces.has(pieceKey(d)))
          .map((d) => d.hash),
      ),
    ]
  }

  /** The space as one projection; states not cached yet come from `stateOf` (a missing state projects as an empty document). */
  assemble(documents: readonly HashedDocument[], stateOf: (hash: string) => Uint8Array | undefined): SpaceJson {
    const byKind = new Map(documents.map((document) => [document.kind, this.piece(document, stateOf).projection]))
    this.trim()
    const scenarioDocs: SpaceJson['scenarioDocs'] = {}
    for (const [kind, projection] of byKind) {
      const id = kind.startsWith('scenario/') ? kind.slice('scenario/'.length) : null
      if (id !== null && isValidId(id)) scenarioDocs[id] = projection as ScenarioJson
    }
    const part = (kind: string): unknown => byKind.get(kind) ?? projectPiece(kind, scratchDoc())
    const settings = documents.find((document) => document.kind === 'settings')
    const media = settings ? (this.piece({ kind: MEDIA_PIECE, hash: settings.hash }, stateOf).projection as Record<string, MediaInfo>) : {}
    this.trim()
    return {
      settings: part('settings') as SpaceJson['settings'],
      buttons: part('buttons') as SpaceJson['buttons'],
      scenarios: part('scenarios') as SpaceJson['scenarios'],
      scenarioDocs,
      // As projectSpace: left out when empty.
      ...(Object.keys(media).length > 0 ? { media } : {}),
    }
  }

  /** One document's projection, decoded only if no version or draft had this state before. */
  projectionOf(document: HashedDocument, state: Uint8Array): unknown {
    const projection = this.piece(document, () => state).projection
    this.trim()
    return projection
  }

  /** The Y.snapshot hash of one state, computed once per state. */
  snapshotHash(document: HashedDocument, state: Uint8Array): Uint8Array {
    const hash = this.piece(document, () => state).snapshotHash
    this.trim()
    return hash
  }

  private piece(document: HashedDocument, stateOf: (hash: string) => Uint8Array | undefined): Piece {
    const key = pieceKey(document)
    let piece = this.pieces.get(key)
    if (piece === undefined) {
      const doc = scratchDoc()
      const state = stateOf(document.hash)
      if (state) Y.applyUpdate(doc, state)
      piece = {
        projection: projectPiece(document.kind, doc),
        snapshotHash: createHash('sha256')
          .update(Y.encodeSnapshot(Y.snapshot(doc)))
          .digest(),
      }
      doc.destroy()
    } else this.pieces.delete(key)
    // Most recently used last, so the oldest is dropped first.
    this.pieces.set(key, piece)
    return piece
  }

  private trim(): void {
    while (this.pieces.size > CACHED_STATES) this.pieces.delete(this.pieces.keys().next().value!)
  }
}

function pieceKey(document: HashedDocument): string {
  // The projection depends on the kind too: an empty settings state and an empty scenario state are the same bytes.
  return `${document.kind.startsWith('scenario/') ? 'scenario' : document.kind}:${document.hash}`
}

/** The documents and, for the settings state, its media piece too. */
function withMediaPiece(documents: readonly HashedDocument[]): HashedDocument[] {
  const settings = documents.find((document) => document.kind === 'settings')
  return settings ? [...documents, { kind: MEDIA_PIECE, hash: settings.hash }] : [...documents]
}

function projectPiece(kind: string, doc: Y.Doc): unknown {
  if (kind === 'settings') return projectSettings(doc)
  if (kind === MEDIA_PIECE) return projectMediaLibrary(doc)
  if (kind === 'buttons') return projectButtons(doc)
  if (kind === 'scenarios') return projectScenarios(doc)
  return projectScenario(doc)
}
