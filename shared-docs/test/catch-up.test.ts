import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CATCH_UP_ANSWER_TYPE, catchUpAnswer, catchUpFailure, catchUpRequest, coversStateVector, parseCatchUpAnswer, parseCatchUpRequest } from '../src/index.ts'

describe('the catch-up messages', () => {
  it('read back what each side builds', () => {
    expect(parseCatchUpRequest(catchUpRequest('42-a'))).toEqual({ type: 'botsync:catch-up', id: '42-a' })
    const vectors = new Map([['demo/settings', new Map([[123456789, 7]])]])
    expect(parseCatchUpAnswer(catchUpAnswer('42-a', vectors))).toEqual({ id: '42-a', documents: vectors })
    expect(parseCatchUpAnswer(catchUpFailure('42-a', 'storage-unavailable'))).toEqual({ id: '42-a', error: 'storage-unavailable' })
  })

  it('ignore anything else, never throwing', () => {
    for (const payload of [undefined, 1, 'not json', '[]', '{}', JSON.stringify({ type: 'botsync:refused', reason: 'x' }), JSON.stringify({ type: 'botsync:catch-up', id: '' })]) {
      expect(parseCatchUpRequest(payload)).toBeNull()
      expect(parseCatchUpAnswer(payload)).toBeNull()
    }
    const bad = (documents: unknown) => JSON.stringify({ type: CATCH_UP_ANSWER_TYPE, id: 'x', documents })
    expect(parseCatchUpAnswer(bad({ a: { '1': -1 } }))).toBeNull()
    expect(parseCatchUpAnswer(bad({ a: { x: 1 } }))).toBeNull()
    expect(parseCatchUpAnswer(bad({ a: [1] }))).toBeNull()
    expect(parseCatchUpAnswer(bad([]))).toBeNull()
    expect(() => catchUpRequest('')).toThrow(TypeError)
  })
})

describe('coversStateVector', () => {
  it('says whether a document holds every change a state vector counts', () => {
    const server = new Y.Doc()
    server.getText('t').insert(0, 'hello')
    const replica = new Y.Doc()
    expect(coversStateVector(replica, Y.decodeStateVector(Y.encodeStateVector(server)))).toBe(false)
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(server))
    expect(coversStateVector(replica, Y.decodeStateVector(Y.encodeStateVector(server)))).toBe(true)
    replica.getText('t').insert(0, 'more')
    expect(coversStateVector(replica, Y.decodeStateVector(Y.encodeStateVector(server)))).toBe(true)
    expect(coversStateVector(new Y.Doc(), new Map())).toBe(true)
  })
})
