import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  addStep,
  applyImport,
  diffSpaces,
  entitiesOf,
  exportSpace,
  fillFormattedTemplate,
  formatText,
  getSettingsText,
  getStepMessage,
  insertFormatted,
  LIMITS,
  projectScenario,
  projectSettings,
  setFormattedText,
  setSettingsText,
  setStepMessage,
  usableEntities,
  validateSpace,
  validateSpaceExport,
  type MessageEntity,
  type SpaceDocs,
  type SpaceExport,
} from '../src/index.ts'
import { demoDocs, validSpace } from './helpers.ts'

/** UTF-16 code units counted without String#length or string indices. */
const u16 = (s: string): number => Buffer.from(s, 'utf16le').length / 2

/** The entity of `type` covering `word`, which follows `before` in the text, by the independent count. */
const at = (type: MessageEntity['type'], before: string, word: string, extra: Partial<MessageEntity> = {}): MessageEntity => ({
  type,
  offset: u16(before),
  length: u16(word),
  ...extra,
})

function textDoc(content: string, clientID = 1): { doc: Y.Doc; text: Y.Text } {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const text = doc.getText('t')
  text.insert(0, content)
  return { doc, text }
}

const covered = (text: string, e: MessageEntity) => text.slice(e.offset, e.offset + e.length)

describe('entitiesOf', () => {
  it('counts UTF-16 code units: emoji with a skin tone, Cyrillic, a combining accent', () => {
    const thumbs = '👍🏽' // U+1F44D U+1F3FD: two surrogate pairs
    const cafe = 'cafe\u0301' // é as e + a combining acute accent
    const content = `Hi ${thumbs} Привет ${cafe}!`
    expect(u16(thumbs)).toBe(4)
    expect(u16(cafe)).toBe(5)
    const { text } = textDoc(content)
    formatText(text, u16('Hi '), u16(thumbs), { italic: true })
    formatText(text, u16(`Hi ${thumbs} `), u16('Привет'), { bold: true })
    formatText(text, u16(`Hi ${thumbs} Привет `), u16(cafe), { text_link: 'https://example.com/café' })
    const result = entitiesOf(text)
    expect(result.text).toBe(content)
    expect(result.entities).toEqual([
      at('italic', 'Hi ', thumbs),
      at('bold', `Hi ${thumbs} `, 'Привет'),
      at('text_link', `Hi ${thumbs} Привет `, cafe, { url: 'https://example.com/café' }),
    ])
    expect(result.entities.map((e) => covered(content, e))).toEqual([thumbs, 'Привет', cafe])
  })

  it('never cuts an emoji in two: a range inside a surrogate pair takes the whole pair', () => {
    const { text } = textDoc('a👍b')
    formatText(text, 2, 1, { bold: true }) // the low half of 👍
    expect(entitiesOf(text).entities).toEqual([{ type: 'bold', offset: 1, length: 2 }])
  })

  it('adjacent runs of one attribute are one entity; nested and overlapping ones are separate, sorted by offset', () => {
    const { text } = textDoc('bold and italic and code')
    formatText(text, 0, 4, { bold: true })
    formatText(text, 4, 11, { bold: true }) // touches the first run: one entity 0..15
    formatText(text, 9, 6, { italic: true }) // inside bold: splits Yjs runs, not the bold entity
    formatText(text, 13, 7, { underline: true }) // overlaps the end of bold and italic
    formatText(text, 20, 4, { pre: 'ts' })
    const { entities } = entitiesOf(text)
    expect(entities).toEqual([
      { type: 'bold', offset: 0, length: 15 },
      { type: 'italic', offset: 9, length: 6 },
      { type: 'underline', offset: 13, length: 7 },
      { type: 'pre', offset: 20, length: 4, language: 'ts' },
    ])
    // Same attribute with another value: two entities.
    const links = textDoc('one two').text
    formatText(links, 0, 3, { text_link: 'https://a.example' })
    formatText(links, 3, 4, { text_link: 'tg://resolve?domain=b' })
    expect(entitiesOf(links).entities).toEqual([
      { type: 'text_link', offset: 0, length: 3, url: 'https://a.example' },
      { type: 'text_link', offset: 3, length: 4, url: 'tg://resolve?domain=b' },
    ])
  })

  it('every attribute; clearing one; values no accessor writes read as plain', () => {
    const { text } = textDoc('abcdefghijk')
    const names = ['bold', 'italic', 'underline', 'strikethrough', 'spoiler', 'code', 'blockquote', 'expandable_blockquote'] as const
    names.forEach((name, i) => formatText(text, i, 1, { [name]: true }))
    formatText(text, 8, 1, { pre: true })
    formatText(text, 9, 1, { text_link: 'https://x.example' })
    expect(entitiesOf(text).entities.map((e) => e.type)).toEqual([...names, 'pre', 'text_link'])
    formatText(text, 0, 11, { bold: null, pre: false })
    expect(entitiesOf(text).entities.map((e) => e.type)).not.toContain('bold')
    expect(entitiesOf(text).entities.map((e) => e.type)).not.toContain('pre')
    text.format(10, 1, { bold: 1, text_link: true, color: 'red' })
    expect(entitiesOf(text).entities.some((e) => e.offset === 10)).toBe(false)
    expect(() => formatText(text, 0, 1, { shout: true } as never)).toThrow(TypeError)
    expect(() => formatText(text, 0, 1, { text_link: true } as never)).toThrow(TypeError)
  })

  it('typing inside a run takes its formatting; insertFormatted sets exactly what it is given', () => {
    const { text } = textDoc('hello world')
    formatText(text, 0, 5, { bold: true })
    text.insert(2, '🙂')
    insertFormatted(text, 4, 'plain', {})
    insertFormatted(text, text.length, ' link', { text_link: 'https://x.example' })
    const result = entitiesOf(text)
    expect(result.text).toBe('he🙂plainllo world link')
    expect(result.entities).toEqual([at('bold', '', 'he🙂'), at('bold', 'he🙂plain', 'llo'), at('text_link', 'he🙂plainllo world', ' link', { url: 'https://x.example' })])
  })

  it('three replicas: two format different words while a third types, and all converge', () => {
    const content = 'Привет 👍🏽 quick brown fox'
    const a = textDoc(content, 1)
    const b = new Y.Doc()
    b.clientID = 2
    const c = new Y.Doc()
    c.clientID = 3
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a.doc))
    Y.applyUpdate(c, Y.encodeStateAsUpdate(a.doc))
    const sv = [a.doc, b, c].map((d) => Y.encodeStateVector(d))

    formatText(a.text, u16('Привет 👍🏽 '), u16('quick'), { bold: true })
    formatText(b.getText('t'), u16('Привет 👍🏽 quick brown '), u16('fox'), { italic: true })
    const ct = c.getText('t')
    ct.insert(u16('Привет 👍🏽 qui'), '🎉') // inside the word A makes bold
    ct.insert(u16('Привет 👍🏽 qui🎉ck '), 'very ')

    const docs = [a.doc, b, c]
    const updates = docs.map((d, i) => Y.encodeStateAsUpdate(d, sv[i]))
    // Every replica gets the others' updates, in different orders.
    docs.forEach((d, i) =>
      [...updates.keys()]
        .filter((j) => j !== i)
        .reverse()
        .forEach((j) => Y.applyUpdate(d, updates[j])),
    )

    const expectedText = 'Привет 👍🏽 qui🎉ck very brown fox'
    const expected = [at('bold', 'Привет 👍🏽 ', 'qui🎉ck'), at('italic', 'Привет 👍🏽 qui🎉ck very brown ', 'fox')]
    for (const d of docs) expect(entitiesOf(d.getText('t'))).toEqual({ text: expectedText, entities: expected })
    expect(expected.map((e) => covered(expectedText, e))).toEqual(['qui🎉ck', 'fox'])
  })
})

describe('setFormattedText', () => {
  it('makes the text hold exactly the entities, and writes nothing when it already does', () => {
    const { doc, text } = textDoc('Hello world')
    formatText(text, 0, 5, { italic: true })
    const wanted: MessageEntity[] = [
      { type: 'bold', offset: 0, length: 2 },
      { type: 'text_link', offset: 3, length: 3, url: 'https://x.example' },
    ]
    setFormattedText(text, 'Hi 👋 all', wanted)
    expect(entitiesOf(text)).toEqual({ text: 'Hi 👋 all', entities: wanted })
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    setFormattedText(text, 'Hi 👋 all', wanted)
    expect(updates).toEqual([])
    setFormattedText(text, 'Hi 👋 all', [])
    expect(entitiesOf(text).entities).toEqual([])
  })

  it('writers of plain text keep the formatting of what they keep', () => {
    const doc = new Y.Doc()
    const id = addStep(doc, { message: 'Hello dear world', entities: [{ type: 'bold', offset: 6, length: 4 }] })
    expect(projectScenario(doc).steps[id].entities).toEqual([{ type: 'bold', offset: 6, length: 4 }])
    setStepMessage(doc, id, 'Hello dear 🌍')
    expect(projectScenario(doc).steps[id]).toMatchObject({ message: 'Hello dear 🌍', entities: [{ type: 'bold', offset: 6, length: 4 }] })
    setStepMessage(doc, id, 'Hello dear 🌍', [])
    expect(projectScenario(doc).steps[id]).not.toHaveProperty('entities')
  })
})

describe('fillFormattedTemplate', () => {
  it('a variable expanding to emoji shifts later entities by its UTF-16 length; an entity over the placeholder grows', () => {
    const template = 'Hello {name}, welcome to *our* bot!'
    const entities = [at('bold', 'Hello ', '{name}'), at('italic', 'Hello {name}, ', 'welcome'), at('underline', '', 'Hello {name}, welcome to *our* bot!')]
    const name = 'Аня 👩🏽‍💻'
    const { text, entities: out } = fillFormattedTemplate(template, entities, { name })
    expect(text).toBe(`Hello ${name}, welcome to *our* bot!`)
    expect(out).toEqual([at('underline', '', text), at('bold', 'Hello ', name), at('italic', `Hello ${name}, `, 'welcome')])
    expect(out.map((e) => covered(text, e))).toEqual([text, name, 'welcome'])
  })

  it('a placeholder without an answer stays; one that empties drops its entity; boundaries inside a placeholder snap to the value', () => {
    const template = '{a}{b} x {c}'
    const entities: MessageEntity[] = [
      { type: 'bold', offset: 0, length: 3 },
      { type: 'italic', offset: 4, length: 4 }, // from inside {b} to the x
      { type: 'code', offset: 9, length: 3 },
    ]
    const { text, entities: out } = fillFormattedTemplate(template, entities, { a: '', b: 'BEE' })
    expect(text).toBe('BEE x {c}')
    expect(out).toEqual([
      { type: 'italic', offset: 0, length: 5 },
      { type: 'code', offset: 6, length: 3 },
    ])
    expect(covered(text, out[0])).toBe('BEE x')
  })

  it("with missing: 'hide', a placeholder without a value goes with one space beside it, and the entities after it move back", () => {
    const template = 'Hi {name}, your code is {code} today. {tip} Bye {x}!'
    const entities = [at('bold', 'Hi ', '{name}'), at('italic', 'Hi {name}, your code is ', '{code} today'), at('underline', 'Hi {name}, your code is {code} today. {tip} ', 'Bye')]
    const { text, entities: out } = fillFormattedTemplate(template, entities, { name: 'Аня 👩🏽‍💻' }, Infinity, 'hide')
    expect(text).toBe('Hi Аня 👩🏽‍💻, your code is today. Bye!')
    expect(text).not.toContain('  ')
    expect(out.map((e) => [e.type, covered(text, e)])).toEqual([
      ['bold', 'Аня 👩🏽‍💻'],
      ['italic', 'today'],
      ['underline', 'Bye'],
    ])
    // The default keeps them, as the bot needs for answers not given yet.
    expect(fillFormattedTemplate(template, [], { name: 'A' }).text).toBe('Hi A, your code is {code} today. {tip} Bye {x}!')
    // Two hidden in a row at the start of a line.
    expect(fillFormattedTemplate('{a} {b} x\n{c} y', [], {}, Infinity, 'hide').text).toBe('x\ny')
  })

  it('cuts at the message limit, never inside an emoji, and clips the entities there', () => {
    const template = `${'x'.repeat(4090)}{v} tail`
    const entities = [at('bold', 'x'.repeat(4080), `${'x'.repeat(10)}{v} tail`), at('italic', `${'x'.repeat(4090)}{v} `, 'tail')]
    const { text, entities: out } = fillFormattedTemplate(template, entities, { v: '🙂🙂🙂' })
    // 4090 + 6 = 4096 ≥ the cut at 4095, which falls inside the third 🙂.
    expect(u16(text)).toBe(4094 + 1)
    expect(text.endsWith('🙂🙂…')).toBe(true)
    expect(out).toEqual([{ type: 'bold', offset: 4080, length: 14 }])
    expect(u16(text)).toBeLessThanOrEqual(LIMITS.messageText)
  })
})

describe('projections, validation and export', () => {
  const space = { id: 'demo', name: 'Demo' }
  const now = new Date('2026-01-01T00:00:00.000Z')

  function formattedDemo(): SpaceDocs {
    const docs = demoDocs()
    const welcome = getStepMessage(docs.scenarioDocs.get('onboarding')!, 'welcome')!
    setFormattedText(welcome, '👋 Hi {name}, read the docs', [
      { type: 'bold', offset: 3, length: 2 },
      { type: 'text_link', offset: 22, length: 4, url: 'https://example.com/docs' },
    ])
    setSettingsText(docs.settings, 'welcome', 'Welcome, friend', [{ type: 'italic', offset: 9, length: 6 }])
    return docs
  }

  it('a step projects entities beside its message, settings texts in textEntities; plain ones add nothing', () => {
    const docs = formattedDemo()
    expect(projectScenario(docs.scenarioDocs.get('onboarding')!).steps.welcome).toMatchObject({
      message: '👋 Hi {name}, read the docs',
      entities: [
        { type: 'bold', offset: 3, length: 2 },
        { type: 'text_link', offset: 22, length: 4, url: 'https://example.com/docs' },
      ],
    })
    expect(projectScenario(docs.scenarioDocs.get('onboarding')!).steps.ask_name).not.toHaveProperty('entities')
    expect(projectSettings(docs.settings).textEntities).toEqual({ welcome: [{ type: 'italic', offset: 9, length: 6 }] })
    expect(projectSettings(demoDocs().settings)).not.toHaveProperty('textEntities')
  })

  it('export → import → export keeps the entities; a second import writes nothing; a formatting-only change is a change', () => {
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs: formattedDemo(), now }))) as SpaceExport
    expect(validateSpaceExport(file)).toMatchObject({ ok: true })
    const target = demoDocs()
    expect(applyImport(target, file).sort()).toEqual(['scenario/onboarding', 'settings'])
    expect(exportSpace({ space, docs: target, now })).toEqual(file)
    expect(applyImport(target, file)).toEqual([])
    expect(entitiesOf(getSettingsText(target.settings, 'welcome')).entities).toEqual([{ type: 'italic', offset: 9, length: 6 }])

    const plain = JSON.parse(JSON.stringify(file)) as SpaceExport
    delete plain.content.scenarios[0].steps[0].entities
    delete plain.content.settings.textEntities
    expect(applyImport(target, plain).sort()).toEqual(['scenario/onboarding', 'settings'])
    expect(exportSpace({ space, docs: target, now })).toEqual(plain)

    const before = exportToJson(file)
    const after = exportToJson(plain)
    expect(diffSpaces(before, after).map((c) => [c.kind, c.summary])).toEqual([
      ['settings-text-changed', 'Formatting of welcome text changed'],
      ['message-changed', 'Formatting of step "👋 Hi {name}, read the docs" in "Onboarding" changed'],
    ])
  })

  it('refuses entities of unknown kinds, beyond the text or with links Telegram does not open, with paths into the file', () => {
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs: formattedDemo(), now })))
    const steps = file.content.scenarios[0].steps
    steps[0].entities.push({ type: 'blink', offset: 0, length: 1 })
    steps[1].entities = [{ type: 'bold', offset: 0, length: u16(steps[1].message) + 1 }]
    steps[2].entities = [
      { type: 'text_link', offset: 0, length: 1, url: 'javascript:alert(1)' },
      { type: 'bold', offset: -1, length: 1 },
    ]
    file.content.settings.textEntities.nope = [{ type: 'bold', offset: 0, length: 1 }]
    const shape = validateSpaceExport(file)
    expect(shape.ok).toBe(false)
    expect(!shape.ok && shape.problems.map((p) => [p.path, p.code])).toEqual([
      ['content.settings.textEntities.nope', 'text-missing'],
      ['content.scenarios[0].steps[0].entities[2].type', 'entity-type-unknown'],
      ['content.scenarios[0].steps[2].entities[1].offset', 'not-an-integer'],
    ])
    delete file.content.settings.textEntities.nope
    steps[0].entities.pop()
    steps[2].entities.pop()
    const limits = validateSpaceExport(file)
    expect(!limits.ok && limits.problems.map((p) => [p.path, p.code])).toEqual([
      ['content.scenarios[0].steps[1].entities[0]', 'entity-out-of-range'],
      ['content.scenarios[0].steps[2].entities[0].url', 'text-link-url-not-allowed'],
    ])
  })

  it('validation: text_link schemes, ranges, the 4096 limit on the plain text; usableEntities keeps the good ones', () => {
    const s = validSpace()
    const st1 = s.scenarioDocs.s1.steps.st1
    st1.message = 'Open the app'
    st1.entities = [
      { type: 'text_link', offset: 0, length: 4, url: 'tg://resolve?domain=x' },
      { type: 'text_link', offset: 5, length: 3, url: 'ftp://x.example' },
      { type: 'bold', offset: 9, length: 4 },
    ]
    s.settings.textEntities = { welcome: [{ type: 'bold', offset: 0, length: 2 }] }
    expect(validateSpace(s).map((p) => [p.path.join('/'), p.code])).toEqual([
      ['scenario/steps/st1/entities/1/url', 'text-link-url-not-allowed'],
      ['scenario/steps/st1/entities/2', 'entity-out-of-range'],
    ])
    expect(usableEntities(st1.message, st1.entities)).toEqual([st1.entities[0]])
    st1.message = 'x'.repeat(LIMITS.messageText)
    st1.entities = [{ type: 'bold', offset: 0, length: LIMITS.messageText }]
    expect(validateSpace(s)).toEqual([])
  })
})

function exportToJson(file: SpaceExport) {
  const docs = demoDocs()
  applyImport(docs, file)
  return {
    settings: projectSettings(docs.settings),
    buttons: {},
    scenarios: { onboarding: { id: 'onboarding', title: 'Onboarding', enabled: true, public: false, trigger: {}, order: 0 } },
    scenarioDocs: { onboarding: projectScenario(docs.scenarioDocs.get('onboarding')!) },
  }
}
