// Document names and ids for a space. Every other package builds and parses
// names only through this file, so the naming scheme lives in one place.

export type DocumentKind = 'settings' | 'buttons' | 'scenarios' | 'scenario' | 'activity' | 'public' | 'published'

/** A parsed name; only kind 'scenario' has a scenarioId. */
export type ParsedDocumentName = { space: string; kind: Exclude<DocumentKind, 'scenario'> } | { space: string; kind: 'scenario'; scenarioId: string }

/** Space ids are lowercase so they are safe in URLs, file names and Redis keys. */
export const SPACE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/
/** Entity ids (scenario, step, button): short, url-safe, case-sensitive. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/

export function isValidSpace(value: unknown): value is string {
  return typeof value === 'string' && SPACE_PATTERN.test(value)
}

export function isValidId(value: unknown): value is string {
  // Ids become keys of plain JSON objects in the projection; assigning
  // '__proto__' there would change the object's prototype instead of adding
  // a key, so it is refused even though it matches the pattern.
  return typeof value === 'string' && ID_PATTERN.test(value) && value !== '__proto__'
}

function checkSpace(space: string): string {
  if (!isValidSpace(space)) throw new TypeError(`Invalid space id: ${JSON.stringify(space)}`)
  return space
}

function checkId(id: string, what: string): string {
  if (!isValidId(id)) throw new TypeError(`Invalid ${what} id: ${JSON.stringify(id)}`)
  return id
}

// Builders throw on bad input: a name built from an unchecked id (say one
// containing '/') would parse as a different document.
export const docName = {
  settings: (space: string): string => `${checkSpace(space)}/settings`,
  buttons: (space: string): string => `${checkSpace(space)}/buttons`,
  scenarios: (space: string): string => `${checkSpace(space)}/scenarios`,
  scenario: (space: string, scenarioId: string): string => `${checkSpace(space)}/scenario/${checkId(scenarioId, 'scenario')}`,
  activity: (space: string): string => `${checkSpace(space)}/activity`,
  /** What Mini App readers may read: written by the server only (see public-content.ts). */
  public: (space: string): string => `${checkSpace(space)}/public`,
  /** The publish mode and the current release the bot answers from: written by the server only (see published.ts). */
  published: (space: string): string => `${checkSpace(space)}/published`,
}

const SIMPLE_KINDS: ReadonlySet<string> = new Set(['settings', 'buttons', 'scenarios', 'activity', 'public', 'published'])

/** Parses `<space>/<kind>` or `<space>/scenario/<id>`; null for anything else. */
export function parseDocumentName(name: string): ParsedDocumentName | null {
  if (typeof name !== 'string') return null
  const parts = name.split('/')
  const space = parts[0]
  if (!isValidSpace(space)) return null
  if (parts.length === 2 && SIMPLE_KINDS.has(parts[1])) {
    return { space, kind: parts[1] as Exclude<DocumentKind, 'scenario'> }
  }
  if (parts.length === 3 && parts[1] === 'scenario' && isValidId(parts[2])) {
    return { space, kind: 'scenario', scenarioId: parts[2] }
  }
  return null
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'

/**
 * A short random url-safe id. 64 symbols, so `byte & 63` is unbiased; 10
 * symbols give 60 bits, plenty for ids that only need to be unique within one
 * space. Uses Web Crypto so it runs unchanged in browsers and Node.
 */
export function newId(length = 10): string {
  if (!Number.isInteger(length) || length < 1 || length > 32) {
    throw new RangeError('newId length must be between 1 and 32')
  }
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(length))
  let id = ''
  for (const byte of bytes) id += ID_ALPHABET[byte & 63]
  return id
}
