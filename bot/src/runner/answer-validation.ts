import type { InputKind } from '@botsync/shared-docs'

/** Longest answer kept; later messages quote answers, and a message may hold at most 4096 characters. */
export const MAX_ANSWER_LENGTH = 1000

const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/
const NUMBER = /^[-+]?\d+(?:[.,]\d+)?$/
const PHONE = /^\+?\d{7,15}$/

/** The answer as stored in `vars`, or null when it is not a valid answer of this kind. */
export function validateAnswer(kind: InputKind, raw: string): string | null {
  const text = raw.trim()
  if (text === '' || text.length > MAX_ANSWER_LENGTH) return null
  switch (kind) {
    case 'text':
      return text
    case 'number':
      return NUMBER.test(text) ? text.replace(',', '.') : null
    case 'email':
      return text.length <= 254 && EMAIL.test(text) ? text : null
    case 'phone': {
      // People write numbers with spaces, dashes and brackets; store the digits.
      const compact = text.replace(/[\s().-]/g, '')
      return PHONE.test(compact) ? compact : null
    }
    default:
      return null
  }
}
