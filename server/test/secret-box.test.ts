import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SecretBox, secretsKey } from '../src/auth/secret-box.ts'

const TOKEN = '123456789:AAExampleExampleExampleExample_12'

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBox(randomBytes(32))

  it('opens what it sealed, and each seal is different (random IV)', () => {
    const sealed = box.seal(TOKEN, 'shop')
    expect(box.open(sealed, 'shop')).toBe(TOKEN)
    expect(box.seal(TOKEN, 'shop').equals(sealed)).toBe(false)
    expect(sealed.includes(Buffer.from(TOKEN))).toBe(false)
    expect(sealed[0]).toBe(1)
  })

  it('refuses a changed byte anywhere, another key, another space (aad) and an unknown version', () => {
    const sealed = box.seal(TOKEN, 'shop')
    for (const at of [1, 13, 29, sealed.length - 1]) {
      const tampered = Buffer.from(sealed)
      tampered[at] ^= 1
      expect(() => box.open(tampered, 'shop')).toThrow(/does not authenticate/)
    }
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'shop')).toThrow(/does not authenticate/)
    expect(() => box.open(sealed, 'other')).toThrow(/does not authenticate/)
    const future = Buffer.from(sealed)
    future[0] = 2
    expect(() => box.open(future, 'shop')).toThrow(/known version/)
  })

  it('takes SECRETS_KEY as base64 or hex of 32 bytes, refuses anything else, and otherwise generates one into DATA_DIR once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'botsync-secrets-'))
    const key = randomBytes(32)
    expect(secretsKey(key.toString('base64'), dir).equals(key)).toBe(true)
    expect(secretsKey(key.toString('base64url'), dir).equals(key)).toBe(true)
    expect(secretsKey(key.toString('hex'), dir).equals(key)).toBe(true)
    expect(() => secretsKey('too-short', dir)).toThrow(/SECRETS_KEY must be 32 bytes/)
    expect(() => secretsKey(randomBytes(16).toString('base64'), dir)).toThrow(/SECRETS_KEY must be 32 bytes/)
    const generated = secretsKey(undefined, dir)
    expect(generated.length).toBe(32)
    expect(statSync(join(dir, 'secrets-key')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(dir, 'secrets-key'), 'utf8')).toBe(generated.toString('base64'))
    expect(secretsKey(undefined, dir).equals(generated)).toBe(true)
  })
})
