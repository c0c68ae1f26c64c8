// The settings document: `doc.getMap('settings')` holds
//   texts:    Y.Map<Y.Text>   welcome, fallback, maintenance, inputInvalid, …
//             (formatting as text attributes, see formatting.ts)
//   flags:    Y.Map<boolean>  botEnabled, linkPreviews (see linkPreviewsEnabled), …
//   mainMenu: Y.Array<Y.Array<string>>  rows of button ids
//   publicTexts: Y.Map<boolean>  text keys Mini App readers may read (absent = private)
import * as Y from 'yjs'
import { setFormattedText } from './formatting.ts'
import { isValidId } from './names.ts'
import type { MessageEntity } from './types.ts'
import { asArray, asMap, asText, replaceText, writeRows } from './ytypes.ts'

export const SETTINGS_TEXT_KEYS = ['welcome', 'fallback', 'maintenance', 'inputInvalid'] as const

/** A missing flag reads as its default: a fresh bot is on unless switched off. */
export const SETTINGS_FLAG_DEFAULTS: Readonly<Record<string, boolean>> = Object.freeze({ botEnabled: true })

/**
 * Whether Telegram draws a link preview under a message with a link: on
 * unless the space switched it off (`linkPreviews: false`), as in Telegram.
 * Not among SETTINGS_FLAG_DEFAULTS on purpose: a default there is written by
 * the seed and projected into every export, so files exported before the
 * switch existed would no longer import as themselves. Absent reads as on.
 */
export const LINK_PREVIEWS_FLAG = 'linkPreviews'

export function linkPreviewsEnabled(flags: Readonly<Record<string, boolean>>): boolean {
  return flags[LINK_PREVIEWS_FLAG] !== false
}

export function settingsRoot(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('settings')
}

export function getSettingsTexts(doc: Y.Doc): Y.Map<Y.Text> | undefined {
  return asMap(settingsRoot(doc).get('texts')) as Y.Map<Y.Text> | undefined
}

export function getSettingsText(doc: Y.Doc, key: string): Y.Text | undefined {
  return asText(getSettingsTexts(doc)?.get(key))
}

export function getSettingsFlags(doc: Y.Doc): Y.Map<boolean> | undefined {
  return asMap(settingsRoot(doc).get('flags')) as Y.Map<boolean> | undefined
}

export function getFlag(doc: Y.Doc, key: string): boolean {
  const value = getSettingsFlags(doc)?.get(key)
  return typeof value === 'boolean' ? value : (SETTINGS_FLAG_DEFAULTS[key] ?? false)
}

export function getMainMenuArray(doc: Y.Doc): Y.Array<Y.Array<string>> | undefined {
  return asArray(settingsRoot(doc).get('mainMenu')) as Y.Array<Y.Array<string>> | undefined
}

/**
 * Creates whatever part of the skeleton is missing, in one transaction.
 * Server-side only (seeding): two clients creating `texts` concurrently would
 * each make their own Y.Map and one of them, with its content, would lose.
 */
export function initSettingsDoc(doc: Y.Doc): void {
  doc.transact(() => {
    const root = settingsRoot(doc)
    let texts = getSettingsTexts(doc)
    if (!texts) {
      texts = new Y.Map<Y.Text>()
      root.set('texts', texts)
    }
    for (const key of SETTINGS_TEXT_KEYS) {
      if (!asText(texts.get(key))) texts.set(key, new Y.Text())
    }
    let flags = getSettingsFlags(doc)
    if (!flags) {
      flags = new Y.Map<boolean>()
      root.set('flags', flags)
    }
    for (const [key, value] of Object.entries(SETTINGS_FLAG_DEFAULTS)) {
      if (typeof flags.get(key) !== 'boolean') flags.set(key, value)
    }
    if (!getMainMenuArray(doc)) root.set('mainMenu', new Y.Array<Y.Array<string>>())
  })
}

function checkKey(key: string): void {
  if (!isValidId(key)) throw new TypeError(`Invalid settings key: ${JSON.stringify(key)}`)
}

/**
 * Sets a settings text, editing the existing Y.Text minimally. Without
 * `entities` the formatting of the parts kept stays (as in setStepMessage);
 * with them it becomes exactly those.
 */
export function setSettingsText(doc: Y.Doc, key: string, value: string, entities?: readonly MessageEntity[]): void {
  checkKey(key)
  doc.transact(() => {
    let texts = getSettingsTexts(doc)
    if (!texts) {
      // Fallback for a doc that was never seeded; see initSettingsDoc.
      texts = new Y.Map<Y.Text>()
      settingsRoot(doc).set('texts', texts)
    }
    let text = asText(texts.get(key))
    if (!text) {
      text = new Y.Text()
      texts.set(key, text)
    }
    if (entities === undefined) replaceText(text, value)
    else setFormattedText(text, value, entities)
  })
}

/** Removes a settings text (an import of a file without it); false if there was none. */
export function removeSettingsText(doc: Y.Doc, key: string): boolean {
  const texts = getSettingsTexts(doc)
  if (!texts?.has(key)) return false
  texts.delete(key)
  return true
}

/** Removes a flag, which then reads as its default; false if it was not set. */
export function removeFlag(doc: Y.Doc, key: string): boolean {
  const flags = getSettingsFlags(doc)
  if (!flags?.has(key)) return false
  flags.delete(key)
  return true
}

export function setFlag(doc: Y.Doc, key: string, value: boolean): void {
  checkKey(key)
  if (typeof value !== 'boolean') throw new TypeError('Flag values are booleans')
  doc.transact(() => {
    let flags = getSettingsFlags(doc)
    if (!flags) {
      flags = new Y.Map<boolean>()
      settingsRoot(doc).set('flags', flags)
    }
    if (flags.get(key) !== value) flags.set(key, value)
  })
}

/** Sets the main menu rows (button ids), rewriting only rows that changed. */
export function setMainMenu(doc: Y.Doc, rows: readonly (readonly string[])[]): void {
  doc.transact(() => {
    let menu = getMainMenuArray(doc)
    if (!menu) {
      menu = new Y.Array<Y.Array<string>>()
      settingsRoot(doc).set('mainMenu', menu)
    }
    writeRows(menu, rows)
  })
}

export function getPublicTextsMap(doc: Y.Doc): Y.Map<boolean> | undefined {
  return asMap(settingsRoot(doc).get('publicTexts')) as Y.Map<boolean> | undefined
}

/**
 * Marks a settings text readable (or not) by Mini App readers. Unpublishing
 * deletes the key, so a missing key and `false` mean the same: private.
 */
export function setTextPublic(doc: Y.Doc, key: string, isPublic: boolean): void {
  checkKey(key)
  if (typeof isPublic !== 'boolean') throw new TypeError('Public flags are booleans')
  doc.transact(() => {
    let map = getPublicTextsMap(doc)
    if (!map) {
      if (!isPublic) return
      map = new Y.Map<boolean>()
      settingsRoot(doc).set('publicTexts', map)
    }
    if (isPublic && map.get(key) !== true) map.set(key, true)
    else if (!isPublic && map.has(key)) map.delete(key)
  })
}
