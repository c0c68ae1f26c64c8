// Plain-JSON shapes of the documents, as produced by projection.ts and
// consumed by validation, the bot and the admin. Y types never leak here.

export type ButtonAction =
  | { type: 'goto'; scenarioId: string; stepId?: string }
  | { type: 'url'; url: string }
  | { type: 'web_app'; url: string }
  | { type: 'callback'; data: string }
  | { type: 'back' }
  | { type: 'end' }

export type ButtonActionType = ButtonAction['type']

export interface ButtonJson {
  id: string
  text: string
  /** null when the stored action is missing or malformed (validation reports it). */
  action: ButtonAction | null
}

export interface TriggerJson {
  /** Bot command without the slash. */
  command?: string
  /** Exact message text that starts the scenario. */
  text?: string
  /** `/start <payload>` deep-link payload. */
  deepLink?: string
}

export interface ScenarioIndexEntry {
  id: string
  title: string
  enabled: boolean
  /** Readable by Mini App readers (copied into `<space>/public`). */
  public: boolean
  trigger: TriggerJson
  order: number
}

export type KeyboardKind = 'inline' | 'reply'

export interface KeyboardJson {
  kind: KeyboardKind
  /** Rows of button ids. */
  rows: string[][]
}

export const INPUT_KINDS = ['text', 'number', 'email', 'phone'] as const
export type InputKind = (typeof INPUT_KINDS)[number]

export interface StepInput {
  /** Variable the answer is stored in; usable as `{var}` in later messages. */
  var: string
  kind: InputKind
}

/**
 * Telegram's formatting entity kinds the documents can hold, one per Y.Text
 * formatting attribute of the same name (formatting.ts).
 */
export const MESSAGE_ENTITY_TYPES = ['bold', 'italic', 'underline', 'strikethrough', 'spoiler', 'code', 'pre', 'text_link', 'blockquote', 'expandable_blockquote'] as const
export type MessageEntityType = (typeof MESSAGE_ENTITY_TYPES)[number]

/** A Bot API MessageEntity: `offset` and `length` in UTF-16 code units of the plain text. */
export interface MessageEntity {
  type: MessageEntityType
  offset: number
  length: number
  /** text_link only. */
  url?: string
  /** pre only, when a language is set. */
  language?: string
}

/** What one media item of a step is sent as: sendPhoto, sendVideo, … */
export const MEDIA_KINDS = ['photo', 'video', 'animation', 'audio', 'voice', 'document'] as const
export type MediaKind = (typeof MEDIA_KINDS)[number]
/** The kinds an album (sendMediaGroup) may mix. */
export const ALBUM_KINDS: readonly MediaKind[] = ['photo', 'video']

/** A stored file, by its id: the SHA-256 of its bytes, 64 lowercase hex digits. */
export interface MediaRef {
  id: string
  kind: MediaKind
}

/**
 * A step's media: one item (a photo, a video, …) or an album of 2–10 photos
 * and videos. The step's message is then its caption (on the album's first
 * item, where Telegram shows an album's caption).
 */
export interface StepMedia {
  items: MediaRef[]
}

/** What the space's media library (media.ts, in `<space>/settings`) says of one stored file. */
export interface MediaInfo {
  kind: MediaKind
  /** The type the server found in the bytes (never the name's or the browser's). */
  mime: string
  bytes: number
  /** The uploaded file's name, for people (nothing is decided by it). */
  name: string
  /** Pixels, for photos and animations (and videos when the server could read them). */
  width?: number
  height?: number
  /** Seconds, for audio, voice and video when the server could read it. */
  duration?: number
}

export interface StepJson {
  id: string
  /** The name an author gave the step; absent when none (then stepTitle() names it by its first words). */
  title?: string
  /** The text, or the caption when the step has media. */
  message: string
  /** The message's formatting (formatting.ts' entitiesOf); absent when the message is plain. */
  entities?: MessageEntity[]
  /** Absent when the step is a text message. */
  media?: StepMedia
  keyboard: KeyboardJson
  input: StepInput | null
  next: string | null
}

export interface ScenarioJson {
  /** '' when not set. */
  entryStepId: string
  steps: Record<string, StepJson>
  /** Every step exactly once, in display order. */
  stepOrder: string[]
}

export interface SettingsJson {
  texts: { welcome: string; fallback: string; maintenance: string; inputInvalid: string; [key: string]: string }
  flags: { botEnabled: boolean; [key: string]: boolean }
  /** Rows of button ids, shown as an inline keyboard under the welcome text. */
  mainMenu: string[][]
  /** Keys of the texts Mini App readers may read, sorted. */
  publicTexts: string[]
  /**
   * The formatting of the texts that have any, by text key; absent when no
   * text is formatted. Beside `texts` rather than inside it: `texts` stays a
   * map of strings, which the Mini App's public projection, the change list,
   * the admin and every export file already read, so a space without
   * formatting projects (and exports) exactly as before.
   */
  textEntities?: Record<string, MessageEntity[]>
}

export interface SpaceJson {
  settings: SettingsJson
  buttons: Record<string, ButtonJson>
  /** The scenarios index, keyed by scenario id. */
  scenarios: Record<string, ScenarioIndexEntry>
  /** Content of each scenario document, keyed by scenario id (not document name). */
  scenarioDocs: Record<string, ScenarioJson>
  /**
   * The media library (media.ts) by id; absent when the space has no media,
   * so a space without any projects, exports and releases exactly as before.
   */
  media?: Record<string, MediaInfo>
}

export type ActivityEvent =
  | { type: 'user_started'; at: number }
  | { type: 'scenario_entered'; at: number; scenarioId: string }
  // stepTitle: the step's name when the bot reached it (step-titles.ts), so Activity names it
  // without opening every scenario, and still names a step deleted since. Absent in older events.
  | { type: 'step_reached'; at: number; scenarioId: string; stepId: string; stepTitle?: string }
  | { type: 'button_pressed'; at: number; buttonId: string }
  | { type: 'input_rejected'; at: number; scenarioId: string; stepId: string; stepTitle?: string }

export type ActivityEventType = ActivityEvent['type']

export interface ActivityJson {
  counters: Record<string, number>
  /** Newest last. */
  events: ActivityEvent[]
}
