// Quill's formats, named exactly as the Y.Text attributes shared-docs stores
// (which are Telegram's entity types), so y-quill moves attributes between
// Quill and the document unchanged: no translation layer anywhere.
//
// Every format is INLINE, a range like Telegram's entity, including the
// quotes and `pre`: Quill's own blockquote and code-block are line formats,
// which Telegram does not have. Quill keeps inline formats off a line's "\n"
// (a Block's newline only holds block formats), so a quote over two lines
// would come back from Quill as two quotes. TelegramLine below keeps the
// attributes of its newline too, so Quill holds exactly what the Y.Text holds.
import Quill from 'quill/core'
import Block from 'quill/blots/block'
import Inline from 'quill/blots/inline'
import Bold from 'quill/formats/bold'
import Italic from 'quill/formats/italic'
import Underline from 'quill/formats/underline'
import type Delta from 'quill-delta'
import { FORMAT_ATTRIBUTES, isFormatAttribute, validateEntity, type FormatAttribute } from '@botsync/shared-docs'

/** What Quill may hold and paste: exactly the Telegram formats (anything else pasted is dropped). */
export const QUILL_FORMATS: readonly FormatAttribute[] = FORMAT_ATTRIBUTES

/** The message validation gives for a link's URL (http, https, tg), or null when Telegram takes it. */
export function linkUrlProblem(url: string): string | null {
  const problems = validateEntity('x', { type: 'text_link', offset: 0, length: 1, url }, '', [])
  return problems[0]?.message ?? null
}

/**
 * An on/off format drawn as a <span class>. Parchment reads a plain <span>
 * as unformatted (Quill's own "inline"), so the format says itself that its
 * element means "on".
 */
function spanFormat(blotName: FormatAttribute, className: string): typeof Inline {
  return class extends Inline {
    static blotName = blotName
    static tagName = 'SPAN'
    static className = className

    static formats(): true {
      return true
    }
  }
}

class Strikethrough extends Inline {
  static blotName = 'strikethrough'
  static tagName = ['S', 'STRIKE', 'DEL']
}

/** Shown dotted and blurred (app.css), as Telegram hides it until tapped. */
const Spoiler = spanFormat('spoiler', 'tg-spoiler')

class Code extends Inline {
  static blotName = 'code'
  static tagName = 'CODE'
}

/** Telegram's `pre`: the value is the language ("ts") or true. */
class Pre extends Inline {
  static blotName = 'pre'
  static tagName = 'SPAN'
  static className = 'tg-pre'

  static create(value: unknown): HTMLElement {
    const node = super.create(value) as HTMLElement
    if (typeof value === 'string' && value !== '') node.dataset.language = value
    return node
  }

  static formats(node: HTMLElement): string | true {
    return node.dataset.language || true
  }

  format(name: string, value: unknown): void {
    if (name === 'pre' && value) {
      if (typeof value === 'string' && value !== '') (this.domNode as HTMLElement).dataset.language = value
      else delete (this.domNode as HTMLElement).dataset.language
    } else super.format(name, value)
  }
}

/**
 * Telegram's `text_link`; the value is the URL. The document may hold any
 * string (validation reports bad ones); only an http(s) or tg URL becomes
 * the element's href, the value itself lives in data-url.
 */
class TextLink extends Inline {
  static blotName = 'text_link'
  static tagName = 'A'

  static create(value: unknown): HTMLElement {
    const node = super.create(value) as HTMLElement
    TextLink.#setUrl(node, String(value))
    node.setAttribute('rel', 'noopener noreferrer')
    node.setAttribute('target', '_blank')
    return node
  }

  static formats(node: HTMLElement): string | undefined {
    // Our own rendering keeps the value; a pasted <a> keeps its href only if Telegram would take it.
    const own = node.dataset.url
    if (own !== undefined) return own
    const href = node.getAttribute('href') ?? ''
    return href !== '' && linkUrlProblem(href) === null ? href : undefined
  }

  static #setUrl(node: HTMLElement, url: string): void {
    node.dataset.url = url
    if (linkUrlProblem(url) === null) node.setAttribute('href', url)
    else node.removeAttribute('href')
    node.title = url
  }

  format(name: string, value: unknown): void {
    if (name === 'text_link' && typeof value === 'string' && value !== '') TextLink.#setUrl(this.domNode as HTMLElement, value)
    else super.format(name, value)
  }
}

const Blockquote = spanFormat('blockquote', 'tg-blockquote')
const ExpandableBlockquote = spanFormat('expandable_blockquote', 'tg-expandable-blockquote')

type NewlineFormats = Partial<Record<FormatAttribute, unknown>>

/**
 * A line that also keeps the inline formats of its "\n" (in data-newline),
 * so a Y.Text whose quote, pre or bold spans a line break reads back from
 * Quill as one range, and Quill's change events (which Quill re-derives
 * from its own model when that differs from the delta it applied) carry
 * the newline's attributes to the Y.Text.
 */
class TelegramLine extends Block {
  formatAt(index: number, length: number, name: string, value: unknown): void {
    super.formatAt(index, length, name, value)
    const newline = this.length() - 1
    if (isFormatAttribute(name) && index <= newline && index + length > newline) this.#setNewlineFormat(name, value)
  }

  delta(): Delta {
    if (this.cache.delta == null) {
      const delta = super.delta()
      const own = this.#newlineFormats()
      if (Object.keys(own).length > 0) {
        const ops = delta.ops
        const last = ops[ops.length - 1]
        const text = typeof last?.insert === 'string' ? last.insert : '\n'
        const withNewline = new (delta.constructor as typeof Delta)(ops.slice(0, -1))
        if (text.length > 1) withNewline.insert(text.slice(0, -1), last?.attributes)
        withNewline.insert('\n', { ...last?.attributes, ...own })
        this.cache.delta = withNewline
      }
    }
    return this.cache.delta as Delta
  }

  /**
   * Splitting a line (a "\n" inserted in it) gives the line that now ends
   * at the split a new newline, plain until Quill formats it (Quill formats
   * an inserted "\n" with every attribute of its op); the other half keeps
   * the old newline and its formats.
   */
  split(index: number, force = false): ReturnType<Block['split']> {
    const prev = this.prev
    const next = this.next
    const result = super.split(index, force)
    if (result === this) {
      if (this.prev !== prev && this.prev instanceof TelegramLine) this.prev.#clearNewline()
    } else if (result !== next) this.#clearNewline()
    return result
  }

  #newlineFormats(): NewlineFormats {
    const raw = (this.domNode as HTMLElement).dataset.newline
    if (!raw) return {}
    try {
      const parsed = JSON.parse(raw) as unknown
      if (typeof parsed !== 'object' || parsed === null) return {}
      return Object.fromEntries(Object.entries(parsed).filter(([name]) => isFormatAttribute(name)))
    } catch {
      return {}
    }
  }

  #setNewlineFormat(name: FormatAttribute, value: unknown): void {
    const formats = this.#newlineFormats()
    if (value === null || value === false || value === undefined) delete formats[name]
    else formats[name] = value
    const node = this.domNode as HTMLElement
    if (Object.keys(formats).length > 0) node.dataset.newline = JSON.stringify(formats)
    else delete node.dataset.newline
    this.cache = {}
  }

  #clearNewline(): void {
    delete (this.domNode as HTMLElement).dataset.newline
    this.cache = {}
  }
}

let registered = false

/** Registers the formats once (Quill's registry is global; only this editor uses Quill). */
export function registerTelegramFormats(): void {
  if (registered) return
  registered = true
  // Nesting order, innermost first: a link inside bold inside a quote.
  Inline.order = ['cursor', 'inline', 'text_link', 'code', 'underline', 'strikethrough', 'italic', 'bold', 'spoiler', 'pre', 'expandable_blockquote', 'blockquote']
  Quill.register(
    {
      'blots/block': TelegramLine,
      'formats/bold': Bold,
      'formats/italic': Italic,
      'formats/underline': Underline,
      'formats/strikethrough': Strikethrough,
      'formats/spoiler': Spoiler,
      'formats/code': Code,
      'formats/pre': Pre,
      'formats/text_link': TextLink,
      'formats/blockquote': Blockquote,
      'formats/expandable_blockquote': ExpandableBlockquote,
    },
    true,
  )
}
