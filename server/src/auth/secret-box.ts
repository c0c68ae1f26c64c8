import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** First byte of every sealed value: the format (v1 = AES-256-GCM, 12-byte IV, 16-byte tag). */
const VERSION_1 = 1
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32

/**
 * Secrets at rest (a space's Telegram bot token): AES-256-GCM from
 * node:crypto, a random 12-byte IV per value, the 16-byte authentication
 * tag kept with it, so a changed byte or another key is refused rather
 * than decrypted into garbage. Sealed bytes: `version (1) | iv (12) | tag
 * (16) | ciphertext`; the version byte lets a later format (another key,
 * another cipher) sit next to this one. `aad` binds a value to where it is
 * stored (the space), so a row's ciphertext copied to another row is refused.
 */
export class SecretBox {
  private readonly key: Buffer

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`SecretBox needs a ${KEY_BYTES}-byte key, got ${key.length} bytes`)
    this.key = key
  }

  seal(plaintext: string, aad = ''): Buffer {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    cipher.setAAD(Buffer.from(aad, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return Buffer.concat([Buffer.from([VERSION_1]), iv, cipher.getAuthTag(), ciphertext])
  }

  /** The plaintext; throws when the bytes were changed, sealed under another key or aad, or are not this format. */
  open(sealed: Uint8Array, aad = ''): string {
    const bytes = Buffer.from(sealed)
    if (bytes.length < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== VERSION_1) throw new Error('not a sealed secret of a known version')
    const iv = bytes.subarray(1, 1 + IV_BYTES)
    const tag = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES)
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv)
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(tag)
    try {
      return Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
    } catch {
      throw new Error('the sealed secret does not authenticate (changed, or sealed under another SECRETS_KEY)')
    }
  }
}

/**
 * SECRETS_KEY: 32 bytes as base64 (or base64url) or as 64 hex digits. Unset:
 * a key generated once into DATA_DIR/secrets-key (mode 0600), like the JWT
 * secret. Anything else is an error naming the variable: a key silently
 * padded or truncated would decrypt nothing stored under the real one.
 */
export function secretsKey(value: string | undefined, dataDir: string): Buffer {
  if (value) return parseKey(value, 'SECRETS_KEY')
  const path = join(dataDir, 'secrets-key')
  if (existsSync(path)) return parseKey(readFileSync(path, 'utf8').trim(), path)
  mkdirSync(dataDir, { recursive: true })
  const key = randomBytes(KEY_BYTES)
  writeFileSync(path, key.toString('base64'), { mode: 0o600 })
  return key
}

function parseKey(text: string, name: string): Buffer {
  const trimmed = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex')
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (key.length === KEY_BYTES) return key
  }
  throw new Error(`${name} must be 32 bytes as base64 (44 characters) or hex (64 digits); generate one with: openssl rand -base64 32`)
}
