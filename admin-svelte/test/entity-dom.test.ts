// The preview's formatted text: DOM built from Telegram entities (UTF-16
// offsets), never from HTML: nesting, overlaps, emoji, spoilers, links.
import { describe, expect, it } from 'vitest'
import type { MessageEntity } from '@botsync/shared-docs'
import { entityNodes, firstLink, linkHost } from '../src/lib/preview/entity-dom.ts'

function render(text: string, entities: MessageEntity[], options = {}): HTMLDivElement {
  const host = document.createElement('div')
  host.appendChild(entityNodes(document, text, entities, options))
  return host
}

describe('entityNodes', () => {
  it('nests entities inside each other, the longer outside', () => {
    const host = render('Hello bold world', [
      { type: 'bold', offset: 6, length: 10 },
      { type: 'italic', offset: 11, length: 5 },
    ])
    expect(host.innerHTML).toBe('Hello <strong>bold <em>world</em></strong>')
  })

  it('splits only where two entities overlap, keeping the rest one element', () => {
    // bold "abcd", italic "cdef": Telegram allows the overlap.
    const host = render('abcdef', [
      { type: 'bold', offset: 0, length: 4 },
      { type: 'italic', offset: 2, length: 4 },
    ])
    expect(host.innerHTML).toBe('<strong>ab<em>cd</em></strong><em>ef</em>')
    expect(host.textContent).toBe('abcdef')
  })

  it('counts offsets in UTF-16 code units: an emoji before an entity takes two', () => {
    const text = '👋 Hi Ana'
    const host = render(text, [{ type: 'bold', offset: 6, length: 3 }])
    expect(host.querySelector('strong')?.textContent).toBe('Ana')
    // A boundary inside the surrogate pair is moved out of it, so the emoji stays whole.
    const cut = render('a👋b', [{ type: 'underline', offset: 2, length: 2 }])
    expect(cut.querySelector('u')?.textContent).toBe('👋b')
  })

  it('puts text in as text: markup typed by an admin stays visible characters', () => {
    const host = render('<img src=x onerror=alert(1)> & <b>', [{ type: 'bold', offset: 0, length: 5 }])
    expect(host.querySelector('img')).toBeNull()
    expect(host.querySelector('b')).toBeNull()
    expect(host.textContent).toBe('<img src=x onerror=alert(1)> & <b>')
  })

  it('hides a spoiler until it is clicked', () => {
    const host = render('The end: they win', [{ type: 'spoiler', offset: 9, length: 8 }])
    const spoiler = host.querySelector<HTMLElement>('.tg-spoiler')!
    expect(spoiler.textContent).toBe('they win')
    expect(spoiler.classList.contains('revealed')).toBe(false)
    expect(spoiler.getAttribute('role')).toBe('button')
    spoiler.click()
    expect(spoiler.classList.contains('revealed')).toBe(true)
  })

  it('draws pre with its language, code, quotes and links; an unsafe link has no target', () => {
    const host = render('x = 1\nquote\nsite bad', [
      { type: 'pre', offset: 0, length: 5, language: 'python' },
      { type: 'expandable_blockquote', offset: 6, length: 5 },
      { type: 'text_link', offset: 12, length: 4, url: 'https://example.com/a' },
      { type: 'text_link', offset: 17, length: 3, url: 'javascript:alert(1)' },
    ])
    expect(host.querySelector('pre .tg-pre-language')?.textContent).toBe('python')
    expect(host.querySelector('pre code')?.textContent).toBe('x = 1')
    expect(host.querySelector('blockquote.tg-expandable')?.textContent).toBe('quote')
    const [good, bad] = host.querySelectorAll('a')
    expect(good.getAttribute('href')).toBe('https://example.com/a')
    expect(bad.hasAttribute('href')).toBe(false)
  })

  it('shows {name} placeholders as chips (with a sample value when given), inside their formatting', () => {
    const host = render('Nice to meet you, {name}!', [{ type: 'bold', offset: 18, length: 6 }], { sample: {} })
    const chip = host.querySelector<HTMLElement>('strong .tg-variable')!
    expect(chip.dataset.variable).toBe('name')
    expect(chip.textContent).toBe('name')
    expect(render('Hi {name}', [], { sample: { name: 'Ana' } }).querySelector('.tg-variable')?.textContent).toBe('Ana')
    expect(render('Hi {name}', [], { placeholders: false }).querySelector('.tg-variable')).toBeNull()
  })
})

describe('links', () => {
  it('finds the first link of a message and its host', () => {
    expect(firstLink('see https://a.example/x and more', [])).toBe('https://a.example/x')
    expect(firstLink('docs here, https://b.example', [{ type: 'text_link', offset: 0, length: 4, url: 'https://c.example/' }])).toBe('https://c.example/')
    expect(firstLink('no link', [])).toBeNull()
    expect(linkHost('https://sub.example.com/path')).toBe('sub.example.com')
    expect(linkHost('not a url')).toBeNull()
  })
})
