// Telegram formatting in the documents. A message (a step's `message`, a
// settings text) is a Y.Text whose formatting is Yjs text attributes, one per
// Telegram entity kind: `text.format(i, n, { bold: true })`. Attributes are
// part of the CRDT, so one admin making a word bold while another types in
// the same sentence merges like two edits of the text: both survive.
//
//   bold, italic, underline, strikethrough, spoiler, code,
//   blockquote, expandable_blockquote   true
//   pre        a language ("ts") or true
//   text_link  the URL
//
// What leaves the documents is Telegram's own shape: the plain text plus
// MessageEntity[] with offsets and lengths in UTF-16 code units. Those are
// JavaScript string indices, and Y.Text counts UTF-16 code units too, so a
// Y.Text index is an entity offset as it is; the only care needed is never
// to cut a surrogate pair (an emoji) in two. The bot sends these entities,
// never parse_mode, so no text an admin writes is ever parsed as markup.
import type * as Y from 'yjs'
import { LIMITS } from './limits.ts'
import { MESSAGE_ENTITY_TYPES, type MessageEntity, type MessageEntityType } from './types.ts'
import { replaceText, transactOn } from './ytypes.ts'

/** The Y.Text attribute names, the same as the entity types they become. */
export const FORMAT_ATTRIBUTES = MESSAGE_ENTITY_TYPES
export type FormatAttribute = MessageEntityType

/** Attributes to set (a value) or clear (null or false) on a range. */
export type FormatAttributes = {
  [K in FormatAttribute]?: (K extends 'pre' ? string | true : K extends 'text_link' ? string : true) | false | null
}

export interface FormattedText {
  text: string
  /** Sorted by offset, an enclosing entity before the ones it contains. */
  entities: MessageEntity[]
}

/** The part of a Y.Text delta this module reads. */
export interface DeltaOp {
  insert?: unknown
  attributes?: Record<string, unknown>
}

const TYPE_ORDER: ReadonlyMap<string, number> = new Map(FORMAT_ATTRIBUTES.map((type, i) => [type, i]))

export function isFormatAttribute(name: unknown): name is FormatAttribute {
  return typeof name === 'string' && TYPE_ORDER.has(name)
}

/**
 * An attribute's value as a run key: true, a pre's language or a link's URL;
 * undefined for absent and for values these accessors never write (a buggy
 * client's `bold: 1`, a link without a URL), which read as unformatted.
 */
function runValue(type: FormatAttribute, value: unknown): string | true | undefined {
  if (type === 'text_link') return typeof value === 'string' && value !== '' ? value : undefined
  if (type === 'pre') return value === true || value === '' ? true : typeof value === 'string' ? value : undefined
  return value === true ? true : undefined
}

function entityValue(entity: MessageEntity): string | true | undefined {
  if (entity.type === 'text_link') return typeof entity.url === 'string' && entity.url !== '' ? entity.url : undefined
  if (entity.type === 'pre') return typeof entity.language === 'string' && entity.language !== '' ? entity.language : true
  return true
}

function makeEntity(type: FormatAttribute, offset: number, length: number, value: string | true): MessageEntity {
  const entity: MessageEntity = { type, offset, length }
  if (type === 'text_link') entity.url = value as string
  else if (type === 'pre' && typeof value === 'string') entity.language = value
  return entity
}

/** Telegram's order: by offset, an enclosing entity before those inside it, then a fixed order of kinds. */
export function compareEntities(a: MessageEntity, b: MessageEntity): number {
  return a.offset - b.offset || b.length - a.length || (TYPE_ORDER.get(a.type) ?? 99) - (TYPE_ORDER.get(b.type) ?? 99)
}

/**
 * The plain text and entities of a Y.Text delta (`ytext.toDelta()`).
 * Adjacent runs with the same value of an attribute are one entity (Yjs
 * splits runs wherever any attribute changes); overlapping or nested
 * attributes are separate entities. Embeds are skipped, as Y.Text#toString
 * skips them. Two attributes that intersect without nesting (bold "ab",
 * italic "bc") stay as they are: Telegram splits such entities itself.
 */
export function entitiesOfDelta(delta: readonly DeltaOp[]): FormattedText {
  const count = FORMAT_ATTRIBUTES.length
  // Per attribute (by TYPE_ORDER index): the open run's value and start, and
  // the current op's value. Only the op's own attribute keys are read: the
  // delta's attribute objects come in many shapes, and probing each for all
  // ten names was most of the cost.
  const openValue: (string | true | undefined)[] = new Array<undefined>(count).fill(undefined)
  const openStart: number[] = new Array<number>(count).fill(0)
  const opValue: (string | true | undefined)[] = new Array<undefined>(count).fill(undefined)
  const entities: MessageEntity[] = []
  let text = ''
  const close = (i: number, at: number) => {
    const value = openValue[i]
    openValue[i] = undefined
    if (value !== undefined && at > openStart[i]) entities.push(makeEntity(FORMAT_ATTRIBUTES[i], openStart[i], at - openStart[i], value))
  }
  for (const op of delta) {
    if (typeof op.insert !== 'string' || op.insert === '') continue
    const attributes = op.attributes
    if (attributes !== undefined) {
      for (const name in attributes) {
        const i = TYPE_ORDER.get(name)
        if (i !== undefined) opValue[i] = runValue(FORMAT_ATTRIBUTES[i], attributes[name])
      }
    }
    for (let i = 0; i < count; i++) {
      const value = opValue[i]
      if (openValue[i] !== value) {
        close(i, text.length)
        if (value !== undefined) {
          openValue[i] = value
          openStart[i] = text.length
        }
      }
      opValue[i] = undefined
    }
    text += op.insert
  }
  for (let i = 0; i < count; i++) close(i, text.length)
  return { text, entities: entities.sort(compareEntities) }
}

/** A message's plain text and entities: a Y.Text, or (tolerated, like readText) a plain string; '' otherwise. */
export function entitiesOf(value: unknown): FormattedText {
  if (typeof value === 'string') return { text: value, entities: [] }
  if (typeof value === 'object' && value !== null && 'toDelta' in value && typeof value.toDelta === 'function') {
    return entitiesOfDelta((value as Y.Text).toDelta() as DeltaOp[])
  }
  return { text: '', entities: [] }
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff

/** `[start, end)` widened so that neither end falls inside a surrogate pair. */
function wholeCodePoints(text: string, start: number, end: number): [number, number] {
  const s = start > 0 && start < text.length && isHigh(text.charCodeAt(start - 1)) ? start - 1 : start
  const e = end > 0 && end < text.length && isHigh(text.charCodeAt(end - 1)) ? end + 1 : end
  return [s, e]
}

function attributeValue(type: FormatAttribute, value: unknown): string | true | null {
  if (value === null || value === false || value === undefined) return null
  if (type === 'text_link') {
    if (typeof value !== 'string' || value === '') throw new TypeError('text_link needs its URL as the value')
    return value
  }
  if (type === 'pre') {
    if (value === true) return true
    if (typeof value !== 'string') throw new TypeError('pre takes a language or true')
    return value === '' ? true : value
  }
  if (value !== true) throw new TypeError(`${type} takes true, or null to clear it`)
  return true
}

function checkedAttributes(attrs: FormatAttributes): Record<string, string | true | null> {
  const result: Record<string, string | true | null> = {}
  for (const [name, value] of Object.entries(attrs)) {
    if (!isFormatAttribute(name)) throw new TypeError(`Unknown formatting attribute: ${JSON.stringify(name)}`)
    result[name] = attributeValue(name, value)
  }
  return result
}

/**
 * Sets (a value) or clears (null/false) formatting on `length` code units
 * from `index`; a range that would cut an emoji in two is widened to take
 * all of it. Other attributes of the range are left alone.
 */
export function formatText(ytext: Y.Text, index: number, length: number, attrs: FormatAttributes): void {
  const text = ytext.toString()
  const from = Math.max(0, Math.min(text.length, Math.trunc(index)))
  const to = Math.max(from, Math.min(text.length, from + Math.trunc(length)))
  const [start, end] = wholeCodePoints(text, from, to)
  if (end > start) ytext.format(start, end - start, checkedAttributes(attrs))
}

/**
 * Inserts text with exactly `attrs` as its formatting: `{}` inserts plain
 * text even inside a bold run (a bare `ytext.insert` takes the formatting of
 * where it lands, which is what typing wants).
 */
export function insertFormatted(ytext: Y.Text, index: number, text: string, attrs: FormatAttributes = {}): void {
  const values = checkedAttributes(attrs)
  const formatting: Record<string, string | true> = {}
  for (const [name, value] of Object.entries(values)) if (value !== null) formatting[name] = value
  ytext.insert(index, text, formatting)
}

/** Per code unit, the value of each attribute an entity of `entities` sets (the union of overlapping entities of one kind). */
function valuesByType(entities: readonly MessageEntity[], length: number): Map<FormatAttribute, (string | true | undefined)[]> {
  const result = new Map<FormatAttribute, (string | true | undefined)[]>()
  for (const entity of entities) {
    if (!isFormatAttribute(entity.type)) continue
    const value = entityValue(entity)
    if (value === undefined) continue
    let values = result.get(entity.type)
    if (!values) {
      values = new Array<string | true | undefined>(length).fill(undefined)
      result.set(entity.type, values)
    }
    const end = Math.min(length, entity.offset + entity.length)
    for (let i = Math.max(0, entity.offset); i < end; i++) values[i] = value
  }
  return result
}

function sameEntities(a: readonly MessageEntity[], b: readonly MessageEntity[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i]
      return x.type === y.type && x.offset === y.offset && x.length === y.length && x.url === y.url && x.language === y.language
    })
  )
}

/**
 * Makes a Y.Text hold exactly `text` with exactly `entities` (an import, a
 * restore), changing as little as possible: the text through replaceText,
 * then only the ranges whose formatting differs. A Y.Text that already holds
 * them is not written at all. Entities of unknown kinds or outside the text
 * are ignored (validation reports them).
 */
export function setFormattedText(ytext: Y.Text, text: string, entities: readonly MessageEntity[] = []): void {
  // The usual case of an import or a restore: the message is as it was.
  const before = entitiesOf(ytext)
  if (before.text === text && sameEntities(before.entities, [...entities].sort(compareEntities))) return
  transactOn(ytext, () => {
    replaceText(ytext, text)
    const length = ytext.length
    const current = entitiesOf(ytext)
    const have = valuesByType(current.entities, length)
    const want = valuesByType(entities, length)
    for (const type of FORMAT_ATTRIBUTES) {
      const a = have.get(type)
      const b = want.get(type)
      if (!a && !b) continue
      let i = 0
      while (i < length) {
        const wanted = b?.[i]
        if (a?.[i] === wanted) {
          i++
          continue
        }
        let j = i + 1
        while (j < length && b?.[j] === wanted && a?.[j] !== wanted) j++
        ytext.format(i, j - i, { [type]: wanted === undefined ? null : wanted })
        i = j
      }
    }
  })
}

// ---- variables ---------------------------------------------------------------

/** `{name}` with a name as INPUT_VAR_PATTERN allows. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]{0,31})\}/g

interface Filled {
  /** In the template. */
  start: number
  end: number
  /** In the result. */
  newStart: number
  newEnd: number
}

/** What a placeholder without a value becomes: left as written (the bot: an answer not given yet), or hidden (a reader's page). */
export type MissingVariables = 'keep' | 'hide'

/**
 * The span a hidden placeholder at [start, end) removes: the placeholder and
 * one space next to it, so "Your code is {code} today" reads "Your code is
 * today" and "Bye {name}!" reads "Bye!", never with two spaces or a space
 * before punctuation. `from` is where the previous removal ended.
 */
function hiddenSpan(text: string, start: number, end: number, from: number): [number, number] {
  const before = text[start - 1]
  const after = text[end]
  // The space after goes first, so an entity starting at the placeholder starts at the next word.
  if (after === ' ' && (before === undefined || /\s/.test(before) || start === from)) return [start, end + 1]
  if (before === ' ' && start - 1 >= from && (after === undefined || /[\s.,!?;:)]/.test(after))) return [start - 1, end]
  return [start, end]
}

/**
 * Fills `{name}` placeholders from `vars` in a formatted text and moves the
 * entities with the text: an entity after a placeholder shifts by the
 * difference in UTF-16 length (an answer with an emoji counts 2 for it), an
 * entity covering a placeholder grows or shrinks with it, and one that ends
 * up empty (only an answer that was '') is dropped. A placeholder without an
 * answer stays as written, or with `missing: 'hide'` is removed together with
 * one space beside it. A result over `limit` is cut to `limit - 1` code
 * units plus "…", never inside an emoji, and the entities are cut there too.
 */
export function fillFormattedTemplate(
  text: string,
  entities: readonly MessageEntity[],
  vars: Readonly<Record<string, string>>,
  limit: number = LIMITS.messageText,
  missing: MissingVariables = 'keep',
): FormattedText {
  const filled: Filled[] = []
  let out = ''
  let last = 0
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1]
    const known = Object.hasOwn(vars, name)
    if (!known && missing === 'keep') continue
    const [start, end] = known ? [match.index, match.index + match[0].length] : hiddenSpan(text, match.index, match.index + match[0].length, last)
    out += text.slice(last, start)
    const newStart = out.length
    out += known ? vars[name] : ''
    last = end
    filled.push({ start, end: last, newStart, newEnd: out.length })
  }
  out += text.slice(last)

  // A position of the template in the result; one inside a placeholder
  // moves to the value's start (an entity's start) or end (an entity's end).
  const map = (pos: number, isEnd: boolean): number => {
    let lo = 0
    let hi = filled.length
    // The first placeholder that ends after pos.
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (filled[mid].end <= pos) lo = mid + 1
      else hi = mid
    }
    const next = filled[lo]
    if (next !== undefined && pos > next.start) return isEnd ? next.newEnd : next.newStart
    const before = lo > 0 ? filled[lo - 1] : undefined
    return before ? pos + before.newEnd - before.end : pos
  }

  let cut = out.length
  if (out.length > limit) {
    cut = limit - 1
    if (cut > 0 && isHigh(out.charCodeAt(cut - 1))) cut--
    out = `${out.slice(0, cut)}…`
  }
  const result: MessageEntity[] = []
  for (const entity of entities) {
    const start = map(entity.offset, false)
    const end = Math.min(cut, map(entity.offset + entity.length, true))
    if (end > start) result.push({ ...entity, offset: start, length: end - start })
  }
  return { text: out, entities: result.sort(compareEntities) }
}
