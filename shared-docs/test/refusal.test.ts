import { describe, expect, it } from 'vitest'
import { parseRefusal, refusalMessage, REFUSED_MESSAGE_TYPE } from '../src/index.ts'

describe('the refusal message', () => {
  it('reads back what the server builds', () => {
    expect(JSON.parse(refusalMessage('read-only', 'role viewer cannot change demo/settings'))).toEqual({
      type: REFUSED_MESSAGE_TYPE,
      reason: 'read-only',
      message: 'role viewer cannot change demo/settings',
    })
    expect(parseRefusal(refusalMessage('document-too-large', 'too big'))).toEqual({ reason: 'document-too-large', message: 'too big' })
    expect(parseRefusal(refusalMessage('token-expired', 'expired'))).toEqual({ reason: 'token-expired', message: 'expired' })
  })

  it('keeps a reason it does not know, and a missing message as empty', () => {
    expect(parseRefusal(JSON.stringify({ type: REFUSED_MESSAGE_TYPE, reason: 'from-a-newer-server' }))).toEqual({
      reason: 'from-a-newer-server',
      message: '',
    })
  })

  it.each([
    ['not JSON', '{'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['an array', '[]'],
    ['another message type', JSON.stringify({ type: 'something-else', reason: 'read-only' })],
    ['no reason', JSON.stringify({ type: REFUSED_MESSAGE_TYPE, message: 'x' })],
    ['an empty reason', JSON.stringify({ type: REFUSED_MESSAGE_TYPE, reason: '' })],
    ['a reason that is not a string', JSON.stringify({ type: REFUSED_MESSAGE_TYPE, reason: 1 })],
    ['a message that is not a string', JSON.stringify({ type: REFUSED_MESSAGE_TYPE, reason: 'read-only', message: {} })],
  ])('is null for %s', (_what, payload) => {
    expect(parseRefusal(payload)).toBeNull()
  })

  it('is null for a payload that is not a string', () => {
    expect(parseRefusal(undefined)).toBeNull()
    expect(parseRefusal(new Uint8Array([1, 2]))).toBeNull()
  })
})
