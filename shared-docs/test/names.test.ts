import { describe, expect, it } from 'vitest'
import { ID_PATTERN, docName, isValidId, isValidSpace, newId, parseDocumentName } from '../src/index.ts'

describe('document names', () => {
  it('builds every kind of name', () => {
    expect(docName.settings('demo')).toBe('demo/settings')
    expect(docName.buttons('demo')).toBe('demo/buttons')
    expect(docName.scenarios('demo')).toBe('demo/scenarios')
    expect(docName.scenario('demo', 'onboarding')).toBe('demo/scenario/onboarding')
    expect(docName.activity('demo')).toBe('demo/activity')
  })

  it('refuses to build names from invalid ids', () => {
    expect(() => docName.settings('Demo')).toThrow(TypeError)
    expect(() => docName.settings('a/b')).toThrow(TypeError)
    expect(() => docName.scenario('demo', 'a/b')).toThrow(TypeError)
    expect(() => docName.scenario('demo', '')).toThrow(TypeError)
  })

  it('parses valid names', () => {
    expect(parseDocumentName('demo/settings')).toEqual({ space: 'demo', kind: 'settings' })
    expect(parseDocumentName('my-bot_2/buttons')).toEqual({ space: 'my-bot_2', kind: 'buttons' })
    expect(parseDocumentName('demo/scenarios')).toEqual({ space: 'demo', kind: 'scenarios' })
    expect(parseDocumentName('demo/activity')).toEqual({ space: 'demo', kind: 'activity' })
    expect(parseDocumentName('demo/scenario/On-board_1')).toEqual({
      space: 'demo',
      kind: 'scenario',
      scenarioId: 'On-board_1',
    })
  })

  it('round-trips built names', () => {
    for (const name of [docName.settings('x'), docName.scenario('x', 'abc'), docName.activity('x')]) {
      const parsed = parseDocumentName(name)!
      expect(parsed.space).toBe('x')
    }
  })

  it.each([
    '',
    'demo',
    'demo/',
    'Demo/settings',
    '-demo/settings',
    '_demo/settings',
    'demo/Settings',
    'demo/other',
    'demo/settings/extra',
    'demo/scenario',
    'demo/scenario/',
    'demo/scenario/a/b',
    'demo/scenario/has space',
    `demo/scenario/${'a'.repeat(33)}`,
    'demo/scenario/__proto__',
    `${'a'.repeat(64)}/settings`,
    '/settings',
    'demo//settings',
  ])('rejects %j', (name) => {
    expect(parseDocumentName(name)).toBeNull()
  })

  it('checks space ids at the length edge', () => {
    expect(isValidSpace('a'.repeat(63))).toBe(true)
    expect(isValidSpace('a'.repeat(64))).toBe(false)
    expect(isValidSpace('0')).toBe(true)
    expect(parseDocumentName(`${'a'.repeat(63)}/settings`)).toEqual({ space: 'a'.repeat(63), kind: 'settings' })
  })

  it('checks entity ids', () => {
    expect(isValidId('a'.repeat(32))).toBe(true)
    expect(isValidId('a'.repeat(33))).toBe(false)
    expect(isValidId('A-b_9')).toBe(true)
    expect(isValidId('')).toBe(false)
    expect(isValidId('a.b')).toBe(false)
    expect(isValidId('__proto__')).toBe(false)
    expect(isValidId(42)).toBe(false)
  })

  it('makes short random url-safe ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId()))
    expect(ids.size).toBe(1000)
    for (const id of ids) {
      expect(id).toHaveLength(10)
      expect(ID_PATTERN.test(id)).toBe(true)
    }
    expect(newId(4)).toHaveLength(4)
    expect(() => newId(33)).toThrow(RangeError)
  })
})
