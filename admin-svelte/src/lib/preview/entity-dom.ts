// Telegram's formatted text as DOM nodes, built from the plain text and its
// entities (offsets and lengths in UTF-16 code units, which is what a JS
// string indexes). Nodes are created one by one — text always goes in as a
// Text node, never through innerHTML — so nothing an admin types can become
// markup. Hand-written: the libraries that turn entities into output build
// HTML strings (the very thing this avoids) or target Telegram's own clients.
import { INPUT_VAR_PATTERN, type MessageEntity } from '@botsync/shared-docs'

export interface EntityDomOptions {
  /** Values to show for `{name}` placeholders; a placeholder without one is drawn as a chip with its name. */
  sample?: Readonly<Record<string, string>>
  /** Draw `{name}` placeholders as chips (the preview) or leave them as text (a sent message, already filled). */
  placeholders?: boolean
}

/** Outermost first when two entities start together: the longer one holds the shorter. */
function byNesting(a: Ranged, b: Ranged): number {
  return a.start - b.start || b.end - a.end || a.index - b.index
}

interface Ranged {
  entity: MessageEntity
  start: number
  end: number
  index: number
}

/** URLs an admin may click in the preview; anything else (javascript:, data:) is drawn as a link without a target. */
const SAFE_URL = /^(https?:|tg:|mailto:)/i

const PLACEHOLDER = new RegExp(`\\{(${INPUT_VAR_PATTERN.source.replace(/^\^/, '').replace(/\$$/, '')})\\}`, 'g')

/**
 * Builds the nodes of a formatted text. Entities may nest and overlap: the
 * text is cut at every entity boundary, and each piece is placed inside the
 * elements of the entities covering it, reusing the open elements it shares
 * with the piece before (so a link or a spoiler stays one element unless an
 * overlapping entity forces a split, as Telegram's clients draw it).
 */
export function entityNodes(doc: Document, text: string, entities: readonly MessageEntity[], options: EntityDomOptions = {}): DocumentFragment {
  const fragment = doc.createDocumentFragment()
  const ranged: Ranged[] = []
  entities.forEach((entity, index) => {
    const start = snapStart(text, clamp(entity.offset, text.length))
    const end = snapEnd(text, clamp(entity.offset + entity.length, text.length))
    if (end > start) ranged.push({ entity, start, end, index })
  })
  ranged.sort(byNesting)
  const cuts = new Set<number>([0, text.length])
  for (const r of ranged) {
    cuts.add(r.start)
    cuts.add(r.end)
  }
  const points = [...cuts].sort((a, b) => a - b)
  // The open elements, outermost first, with the entity each one draws.
  const open: { ranged: Ranged | null; node: Node }[] = [{ ranged: null, node: fragment }]
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i]
    const to = points[i + 1]
    const covering = ranged.filter((r) => r.start <= from && r.end >= to)
    let shared = 1
    while (shared < open.length && shared - 1 < covering.length && open[shared].ranged === covering[shared - 1]) shared++
    open.length = shared
    for (const r of covering.slice(shared - 1)) {
      const element = elementFor(doc, r.entity)
      open[open.length - 1].node.appendChild(element.outer)
      open.push({ ranged: r, node: element.inner })
    }
    appendText(doc, open[open.length - 1].node, text.slice(from, to), options)
  }
  return fragment
}

function appendText(doc: Document, parent: Node, text: string, options: EntityDomOptions): void {
  if (text === '') return
  if (options.placeholders === false) {
    parent.appendChild(doc.createTextNode(text))
    return
  }
  let last = 0
  for (const match of text.matchAll(PLACEHOLDER)) {
    const at = match.index
    if (at > last) parent.appendChild(doc.createTextNode(text.slice(last, at)))
    const name = match[1]
    const chip = doc.createElement('span')
    chip.className = 'tg-variable'
    chip.dataset.variable = name
    const value = options.sample?.[name]
    chip.textContent = value ?? name
    chip.title = value === undefined ? `Filled with the user's answer saved as "${name}"` : `Sample value of {${name}}`
    parent.appendChild(chip)
    last = at + match[0].length
  }
  if (last < text.length) parent.appendChild(doc.createTextNode(text.slice(last)))
}

/** The element(s) of one entity: `outer` goes into the parent, the text into `inner`. */
function elementFor(doc: Document, entity: MessageEntity): { outer: HTMLElement; inner: HTMLElement } {
  const one = (tag: string, className?: string) => {
    const element = doc.createElement(tag)
    if (className) element.className = className
    return { outer: element, inner: element }
  }
  switch (entity.type) {
    case 'bold':
      return one('strong')
    case 'italic':
      return one('em')
    case 'underline':
      return one('u')
    case 'strikethrough':
      return one('s')
    case 'code':
      return one('code', 'tg-code')
    case 'spoiler': {
      // Hidden until clicked, as in Telegram; a second click does not hide it again.
      const element = doc.createElement('span')
      element.className = 'tg-spoiler'
      element.tabIndex = 0
      element.setAttribute('role', 'button')
      element.setAttribute('aria-label', 'Spoiler: click to reveal')
      const reveal = (event: Event) => {
        event.stopPropagation()
        element.classList.add('revealed')
        element.removeAttribute('role')
        element.removeAttribute('aria-label')
        element.removeAttribute('tabindex')
      }
      element.addEventListener('click', reveal)
      element.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') reveal(event)
      })
      return { outer: element, inner: element }
    }
    case 'pre': {
      const pre = doc.createElement('pre')
      pre.className = 'tg-pre'
      if (entity.language) {
        const label = doc.createElement('span')
        label.className = 'tg-pre-language'
        label.textContent = entity.language
        pre.appendChild(label)
      }
      const code = doc.createElement('code')
      pre.appendChild(code)
      return { outer: pre, inner: code }
    }
    case 'text_link': {
      const link = doc.createElement('a')
      link.className = 'tg-link'
      if (entity.url && SAFE_URL.test(entity.url)) {
        link.href = entity.url
        link.target = '_blank'
        link.rel = 'noopener noreferrer'
      }
      if (entity.url) link.title = entity.url
      return { outer: link, inner: link }
    }
    case 'blockquote':
      return one('blockquote', 'tg-quote')
    case 'expandable_blockquote': {
      // Collapsed to a few lines until clicked, as Telegram draws it.
      const quote = doc.createElement('blockquote')
      quote.className = 'tg-quote tg-expandable'
      quote.addEventListener('click', () => quote.classList.toggle('expanded'))
      return { outer: quote, inner: quote }
    }
    default: {
      // A type this admin does not know (a newer shared-docs): its text, unformatted.
      return one('span')
    }
  }
}

function clamp(value: number, max: number): number {
  return Math.max(0, Math.min(max, Number.isFinite(value) ? Math.trunc(value) : 0))
}

/** A boundary inside a surrogate pair would cut an emoji in half: a start moves before the pair… */
function snapStart(text: string, at: number): number {
  return at > 0 && at < text.length && isLowSurrogate(text.charCodeAt(at)) && isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at
}

/** …and an end after it. */
function snapEnd(text: string, at: number): number {
  return at > 0 && at < text.length && isLowSurrogate(text.charCodeAt(at)) && isHighSurrogate(text.charCodeAt(at - 1)) ? at + 1 : at
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/** The first link of a message (a text_link's URL or a bare URL in the text): the one Telegram previews. */
export function firstLink(text: string, entities: readonly MessageEntity[]): string | null {
  const links = entities.filter((e) => e.type === 'text_link' && e.url).map((e) => ({ at: e.offset, url: e.url! }))
  const bare = /https?:\/\/[^\s<>"]+/i.exec(text)
  if (bare) links.push({ at: bare.index, url: bare[0] })
  links.sort((a, b) => a.at - b.at)
  return links[0]?.url ?? null
}

/** The host a link card names ("example.com"), or null for a URL that does not parse. */
export function linkHost(url: string): string | null {
  try {
    return new URL(url).host || null
  } catch {
    return null
  }
}
