// Versions of a space on the wire: releases and checkpoints, the change list
// between two of them (or one and the drafts), restore and the publish mode.
// The HTTP routes (server/src/http/version-routes.ts) answer these shapes and
// the admin reads them; nothing else spells them.
import type { PublishMode } from './published.ts'

export const VERSION_KINDS = ['release', 'checkpoint'] as const
export type VersionKind = (typeof VERSION_KINDS)[number]

/** Longest release note, in characters. */
export const RELEASE_NOTE_MAX = 500
/** Default CHECKPOINT_INTERVAL: at most one automatic checkpoint per space per this much editing. */
export const DEFAULT_CHECKPOINT_INTERVAL_SECONDS = 600

/** `?against=draft`: compare with the current drafts. */
export const DRAFT = 'draft'

export interface VersionAuthor {
  id: string
  name: string
}

/** GET /api/spaces/:space/versions, one row (newest first); POST …/releases answers one. */
export interface VersionSummary {
  id: string
  kind: VersionKind
  /** Releases: 1, 2, … per space. Checkpoints: 1, 2, … per space, counted apart. */
  number: number
  /** Who published; null for a checkpoint (the server made it). */
  author: VersionAuthor | null
  /** ISO 8601. */
  createdAt: string
  note: string | null
}

export interface VersionsAnswer {
  mode: PublishMode
  /** The release the bot answers from in review mode; null before the first. */
  current: number | null
  versions: VersionSummary[]
}

/** GET /api/spaces/:space/publish-status: the header's "N unpublished changes". */
export interface PublishStatus {
  mode: PublishMode
  release: VersionSummary | null
  /** Entity changes between the current release and the drafts (all of them when there is no release). */
  unpublished: number
}

export type ChangeKind =
  | 'scenario-added'
  | 'scenario-removed'
  | 'scenario-renamed'
  | 'scenario-enabled'
  | 'scenario-disabled'
  | 'scenario-changed'
  | 'step-added'
  | 'step-removed'
  | 'step-renamed'
  | 'steps-reordered'
  | 'entry-step-changed'
  | 'message-changed'
  | 'keyboard-changed'
  | 'input-changed'
  | 'next-changed'
  | 'button-added'
  | 'button-removed'
  | 'button-changed'
  | 'settings-text-changed'
  | 'settings-changed'

/** One piece of a word-level diff, in order: concatenating `same` + `removed` gives the old text, `same` + `added` the new one. */
export interface WordDiffPart {
  op: 'same' | 'added' | 'removed'
  text: string
}

/** One entity's change, computed from the projections (shared-docs/src/change-list.ts). */
export interface SpaceChange {
  kind: ChangeKind
  /** The document it is in, relative to the space: 'settings', 'buttons', 'scenarios' or 'scenario/<id>'. */
  document: string
  scenarioId?: string
  stepId?: string
  buttonId?: string
  /** A settings text's key, or a settings field ('flags.botEnabled', 'mainMenu', 'publicTexts'). */
  key?: string
  /** What a person reads: `Message of step "Hello…" in "Onboarding" changed`. */
  summary: string
  before?: unknown
  after?: unknown
  /** Texts (a message, a settings text, a title, a label): the word diff. */
  diff?: WordDiffPart[]
}

/** A change with the people whose stored updates made it (the authors of its document between the two versions). */
export interface AttributedChange extends SpaceChange {
  authors: VersionAuthor[]
}

/** GET /api/spaces/:space/versions/:id/changes?against=<id>|draft: what changed from version :id to `against`. */
export interface ChangesAnswer {
  from: VersionSummary
  /** null: the drafts. */
  to: VersionSummary | null
  changes: AttributedChange[]
}

/** POST /api/spaces/:space/versions/:id/restore {scenarioId?}: the documents the restore changed (kinds as in SpaceChange.document). */
export interface RestoreAnswer {
  changed: string[]
}

/** Error codes of the version routes (with the HTTP status each comes with). */
export const VERSION_ERRORS = {
  /** 404: no such version in this space. */
  unknownVersion: 'unknown-version',
  /** 404: the version has no such scenario. */
  unknownScenario: 'unknown-scenario',
  /** 400: `mode` is not 'live' or 'review'. */
  invalidMode: 'invalid-mode',
  /** 400: a note that is not a string or is longer than RELEASE_NOTE_MAX. */
  invalidNote: 'invalid-note',
  /** 400: `against` is neither a version id of the space nor 'draft'. */
  invalidAgainst: 'invalid-against',
} as const
