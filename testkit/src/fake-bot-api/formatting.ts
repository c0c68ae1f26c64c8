// Message text formatting as Telegram applies it: parse_mode (HTML, MarkdownV2,
// Markdown) → plain text + entities, then trimming of surrounding whitespace.
// Parse errors use Telegram's wording ("Bad Request: can't parse entities: …").
// This is a faithful-enough subset for tests, not a full reimplementation.
import { ApiFailure } from './api-failure.ts'
import type { MessageEntity } from './types.ts'

export interface FormattedText {
  text: string
  entities: MessageEntity[]
}

export function formatText(input: string, parseMode: string | undefined, explicitEntities: unknown): FormattedText {
  let result: FormattedText
  if (Array.isArray(explicitEntities)) {
    result = { text: input, entities: checkExplicitEntities(input, explicitEntities) }
  } else {
    const mode = (parseMode ?? '').toLowerCase()
    if (mode === '') result = { text: input, entities: [] }
    else if (mode === 'html') result = parseHtml(input)
    else if (mode === 'markdownv2') result = parseMarkdownV2(input)
    else if (mode === 'markdown') result = parseMarkdownLegacy(input)
    else throw ApiFailure.badRequest(`unsupported parse_mode`)
  }
  return trimFormatted(result)
}

function entityError(detail: string): ApiFailure {
  return ApiFailure.badRequest(`can't parse entities: ${detail}`)
}

// ---------------------------------------------------------------- explicit entities

/** The Bot API's MessageEntity types. */
const ENTITY_TYPES = new Set([
  'mention',
  'hashtag',
  'cashtag',
  'bot_command',
  'url',
  'email',
  'phone_number',
  'bold',
  'italic',
  'underline',
  'strikethrough',
  'spoiler',
  'blockquote',
  'expandable_blockquote',
  'code',
  'pre',
  'text_link',
  'text_mention',
  'custom_emoji',
  'date_time',
])

/**
 * A text_link URL Telegram accepts: http(s) with a host, tg:// (and ton://),
 * or a bare host, which Telegram reads as http://. javascript:, ftp: and
 * the like are refused.
 */
function isTextLinkUrl(url: string): boolean {
  if (url !== url.trim() || url === '' || /\s/.test(url)) return false
  // "example.com:8080/x" is a bare host with a port, not a scheme.
  const scheme = /^([A-Za-z][A-Za-z0-9+-]*):/.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined) return /^[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+(?::\d+)?(?:[/?#]|$)/u.test(url)
  try {
    const parsed = new URL(url)
    if (scheme === 'http' || scheme === 'https') return parsed.hostname !== ''
    return (scheme === 'tg' || scheme === 'ton') && url.startsWith(`${scheme}://`)
  } catch {
    return false
  }
}

/**
 * Entities given as `entities` (parse_mode is then ignored), checked as
 * Telegram does before it trims the text: offsets and lengths are UTF-16
 * code units of the text as sent, and an entity may not end beyond it; a
 * text_link must have a URL Telegram can open.
 */
function checkExplicitEntities(text: string, entities: unknown[]): MessageEntity[] {
  return entities.map((value, i) => {
    if (typeof value !== 'object' || value === null) throw ApiFailure.badRequest(`can't parse entities JSON object`)
    const e = value as Record<string, unknown>
    if (typeof e['type'] !== 'string' || !ENTITY_TYPES.has(e['type'])) throw entityError(`Unsupported entity type in entity ${i}`)
    const { offset, length } = e
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
      throw entityError(`Wrong offset or length of entity ${i}`)
    }
    if (offset + length > text.length) {
      throw entityError(`Entity ${i} (${e['type']}) ends at UTF-16 offset ${offset + length}, beyond the end of the text (${text.length})`)
    }
    if (e['type'] === 'text_link' && (typeof e['url'] !== 'string' || !isTextLinkUrl(e['url']))) {
      throw entityError(`Wrong URL ${JSON.stringify(e['url'] ?? '')} of text_link entity ${i}`)
    }
    return structuredClone(e) as unknown as MessageEntity
  })
}

function byteOffset(s: string, index: number): number {
  return Buffer.byteLength(s.slice(0, index), 'utf8')
}

function trimFormatted({ text, entities }: FormattedText): FormattedText {
  const lead = text.length - text.trimStart().length
  const trimmed = text.trim()
  const out: MessageEntity[] = []
  for (const e of entities) {
    const start = Math.max(0, e.offset - lead)
    const end = Math.min(trimmed.length, e.offset + e.length - lead)
    if (end > start) out.push({ ...e, offset: start, length: end - start })
  }
  out.sort((a, b) => a.offset - b.offset || b.length - a.length)
  return { text: trimmed, entities: out }
}

// ---------------------------------------------------------------- HTML

const HTML_TAGS: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  span: 'spoiler',
  'tg-spoiler': 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
}

interface OpenHtmlTag {
  tag: string
  type: string
  start: number
  attrs: Record<string, string>
}

function parseHtml(s: string): FormattedText {
  let out = ''
  const entities: MessageEntity[] = []
  const stack: OpenHtmlTag[] = []
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    if (c === '<') {
      const at = byteOffset(s, i)
      const close = findTagEnd(s, i + 1)
      if (s[i + 1] === '/') {
        if (close === -1) throw entityError(`Unclosed end tag at byte offset ${at}`)
        const name = s
          .slice(i + 2, close)
          .trim()
          .toLowerCase()
        const open = stack.pop()
        if (!open) throw entityError(`Unexpected end tag at byte offset ${at}`)
        if (name !== '' && name !== open.tag) {
          throw entityError(`Can't find end tag corresponding to start tag "${open.tag}"`)
        }
        closeHtmlTag(open, out, entities, stack)
        i = close + 1
        continue
      }
      if (close === -1) throw entityError(`Unclosed start tag at byte offset ${at}`)
      const inner = s.slice(i + 1, close)
      const name = (/^[a-zA-Z][a-zA-Z0-9-]*/.exec(inner)?.[0] ?? '').toLowerCase()
      const type = HTML_TAGS[name]
      if (!type) throw entityError(`Unsupported start tag "${name}" at byte offset ${at}`)
      const attrs = parseAttributes(inner.slice(name.length))
      if (name === 'span' && attrs['class'] !== 'tg-spoiler') {
        throw entityError(`Tag "span" must have class "tg-spoiler" at byte offset ${at}`)
      }
      stack.push({ tag: name, type, start: out.length, attrs })
      i = close + 1
      continue
    }
    if (c === '&') {
      const m = /^&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});/.exec(s.slice(i, i + 12))
      if (m) {
        const name = m[1]!
        if (name === 'lt') out += '<'
        else if (name === 'gt') out += '>'
        else if (name === 'amp') out += '&'
        else if (name === 'quot') out += '"'
        else if (name.startsWith('#x')) out += String.fromCodePoint(parseInt(name.slice(2), 16))
        else out += String.fromCodePoint(parseInt(name.slice(1), 10))
        i += m[0].length
        continue
      }
    }
    out += c
    i++
  }
  if (stack.length > 0) throw entityError(`Can't find end tag corresponding to start tag "${stack[0]!.tag}"`)
  return { text: out, entities }
}

function findTagEnd(s: string, from: number): number {
  let quote: string | undefined
  for (let j = from; j < s.length; j++) {
    const c = s[j]
    if (quote) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === '>') return j
    else if (c === '<') return -1
  }
  return -1
}

function parseAttributes(s: string): Record<string, string> {
  const attrs: Record<string, string> = {}
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g
  for (const m of s.matchAll(re)) attrs[m[1]!.toLowerCase()] = decodeHtmlEntities(m[2] ?? m[3] ?? m[4] ?? '')
  return attrs
}

function decodeHtmlEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
}

function closeHtmlTag(open: OpenHtmlTag, out: string, entities: MessageEntity[], stack: OpenHtmlTag[]): void {
  const length = out.length - open.start
  const parent = stack[stack.length - 1]
  if (open.type === 'code' && parent?.type === 'pre') {
    const language = /^language-(.+)$/.exec(open.attrs['class'] ?? '')?.[1]
    if (language) parent.attrs['language'] = language
    return
  }
  if (length <= 0) return
  const entity: MessageEntity = { type: open.type, offset: open.start, length }
  if (open.type === 'text_link') {
    const href = open.attrs['href']
    if (!href) return
    entity.url = href
  }
  if (open.type === 'pre' && open.attrs['language']) entity.language = open.attrs['language']
  if (open.type === 'blockquote' && 'expandable' in open.attrs) entity.type = 'expandable_blockquote'
  if (open.type === 'custom_emoji') entity.custom_emoji_id = open.attrs['emoji-id'] ?? ''
  entities.push(entity)
}

// ---------------------------------------------------------------- MarkdownV2

const MDV2_RESERVED = new Set(['_', '*', '[', ']', '(', ')', '~', '`', '>', '#', '+', '-', '=', '|', '{', '}', '.', '!'])

const MDV2_NAMES: Record<string, string> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  text_link: 'TextUrl',
  custom_emoji: 'CustomEmoji',
}

interface OpenMdEntity {
  type: string
  start: number
  byteAt: number
}

function parseMarkdownV2(s: string): FormattedText {
  let out = ''
  const entities: MessageEntity[] = []
  const stack: OpenMdEntity[] = []
  let quote: { start: number; type: string } | undefined
  const reserved = (i: number): ApiFailure => entityError(`Character '${s[i]}' is reserved and must be escaped with the preceding '\\'`)
  const toggle = (type: string, i: number): void => {
    let idx = -1
    for (let k = stack.length - 1; k >= 0; k--)
      if (stack[k]!.type === type) {
        idx = k
        break
      }
    if (idx >= 0) {
      const open = stack.splice(idx, 1)[0]!
      if (out.length > open.start) entities.push({ type, offset: open.start, length: out.length - open.start })
    } else {
      stack.push({ type, start: out.length, byteAt: byteOffset(s, i) })
    }
  }
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    const lineStart = i === 0 || s[i - 1] === '\n'
    if (lineStart) {
      if (c === '>' || s.startsWith('**>', i)) {
        if (!quote) quote = { start: out.length, type: c === '>' ? 'blockquote' : 'expandable_blockquote' }
        i += c === '>' ? 1 : 3
        continue
      }
      if (quote) {
        const end = out.endsWith('\n') ? out.length - 1 : out.length
        if (end > quote.start) entities.push({ type: quote.type, offset: quote.start, length: end - quote.start })
        quote = undefined
      }
    }
    if (c === '\\') {
      const next = s[i + 1]
      if (next === undefined) throw reserved(i)
      out += next
      i += 2
      continue
    }
    if (c === '`') {
      const at = byteOffset(s, i)
      const isPre = s.startsWith('```', i)
      const fence = isPre ? '```' : '`'
      let j = i + fence.length
      let content = ''
      let closed = false
      while (j < s.length) {
        if (s[j] === '\\' && j + 1 < s.length) {
          content += s[j + 1]
          j += 2
          continue
        }
        if (s.startsWith(fence, j)) {
          closed = true
          break
        }
        content += s[j]
        j++
      }
      if (!closed) throw entityError(`Can't find end of ${isPre ? 'Pre' : 'Code'} entity at byte offset ${at}`)
      let language: string | undefined
      if (isPre) {
        const nl = content.indexOf('\n')
        if (nl !== -1) {
          const first = content.slice(0, nl)
          if (first === '' || /^\S+$/.test(first)) {
            if (first !== '') language = first
            content = content.slice(nl + 1)
          }
        }
      }
      if (content.length > 0) {
        const entity: MessageEntity = { type: isPre ? 'pre' : 'code', offset: out.length, length: content.length }
        if (language) entity.language = language
        entities.push(entity)
      }
      out += content
      i = j + fence.length
      continue
    }
    if (c === '*') {
      toggle('bold', i)
      i++
      continue
    }
    if (c === '~') {
      toggle('strikethrough', i)
      i++
      continue
    }
    if (c === '_') {
      if (s[i + 1] === '_') {
        toggle('underline', i)
        i += 2
      } else {
        toggle('italic', i)
        i++
      }
      continue
    }
    if (c === '|') {
      if (s[i + 1] !== '|') throw reserved(i)
      toggle('spoiler', i)
      i += 2
      continue
    }
    if (c === '[' || (c === '!' && s[i + 1] === '[')) {
      const type = c === '[' ? 'text_link' : 'custom_emoji'
      stack.push({ type, start: out.length, byteAt: byteOffset(s, i) })
      i += c === '[' ? 1 : 2
      continue
    }
    if (c === ']') {
      let idx = -1
      for (let k = stack.length - 1; k >= 0; k--) {
        const t = stack[k]!.type
        if (t === 'text_link' || t === 'custom_emoji') {
          idx = k
          break
        }
      }
      if (idx === -1) throw reserved(i)
      const open = stack.splice(idx, 1)[0]!
      if (s[i + 1] !== '(') throw entityError(`Can't find end of ${MDV2_NAMES[open.type]} entity at byte offset ${open.byteAt}`)
      let j = i + 2
      let url = ''
      let closed = false
      while (j < s.length) {
        if (s[j] === '\\' && j + 1 < s.length) {
          url += s[j + 1]
          j += 2
          continue
        }
        if (s[j] === ')') {
          closed = true
          break
        }
        url += s[j]
        j++
      }
      if (!closed) throw entityError(`Can't find end of a URL at byte offset ${byteOffset(s, i + 1)}`)
      if (out.length > open.start) {
        const entity: MessageEntity = { type: open.type, offset: open.start, length: out.length - open.start }
        if (open.type === 'custom_emoji') entity.custom_emoji_id = /[?&]id=(\d+)/.exec(url)?.[1] ?? ''
        else entity.url = url
        entities.push(entity)
      }
      i = j + 1
      continue
    }
    if (MDV2_RESERVED.has(c)) throw reserved(i)
    out += c
    i++
  }
  if (quote) {
    if (out.length > quote.start) entities.push({ type: quote.type, offset: quote.start, length: out.length - quote.start })
  }
  if (stack.length > 0) {
    const open = stack[0]!
    throw entityError(`Can't find end of ${MDV2_NAMES[open.type] ?? open.type} entity at byte offset ${open.byteAt}`)
  }
  return { text: out, entities }
}

// ---------------------------------------------------------------- Markdown (legacy)

function parseMarkdownLegacy(s: string): FormattedText {
  let out = ''
  const entities: MessageEntity[] = []
  let i = 0
  const unclosed = (at: number): ApiFailure => entityError(`Can't find end of the entity starting at byte offset ${byteOffset(s, at)}`)
  while (i < s.length) {
    const c = s[i]!
    if (c === '\\' && '_*`['.includes(s[i + 1] ?? '')) {
      out += s[i + 1]
      i += 2
      continue
    }
    if (c === '*' || c === '_' || c === '`') {
      const isPre = c === '`' && s.startsWith('```', i)
      const fence = isPre ? '```' : c
      const end = s.indexOf(fence, i + fence.length)
      if (end === -1) throw unclosed(i)
      let content = s.slice(i + fence.length, end)
      let language: string | undefined
      if (isPre) {
        const nl = content.indexOf('\n')
        if (nl !== -1 && /^\S*$/.test(content.slice(0, nl))) {
          language = content.slice(0, nl) || undefined
          content = content.slice(nl + 1)
        }
      }
      const type = isPre ? 'pre' : c === '*' ? 'bold' : c === '_' ? 'italic' : 'code'
      if (content.length > 0) {
        const entity: MessageEntity = { type, offset: out.length, length: content.length }
        if (language) entity.language = language
        entities.push(entity)
      }
      out += content
      i = end + fence.length
      continue
    }
    if (c === '[') {
      const close = s.indexOf(']', i + 1)
      if (close === -1 || s[close + 1] !== '(') throw unclosed(i)
      const urlEnd = s.indexOf(')', close + 2)
      if (urlEnd === -1) throw unclosed(i)
      const label = s.slice(i + 1, close)
      if (label.length > 0) entities.push({ type: 'text_link', offset: out.length, length: label.length, url: s.slice(close + 2, urlEnd) })
      out += label
      i = urlEnd + 1
      continue
    }
    out += c
    i++
  }
  return { text: out, entities }
}
