import { describe, expect, it } from 'vitest'
import {
  callbackDataFor,
  entityPath,
  isEntityValid,
  parseCallbackData,
  problemsFor,
  validateButton,
  validateSpace,
  validateStep,
  MEDIA_KINDS,
  type MediaInfo,
  type MediaRef,
  type Problem,
  type SpaceJson,
} from '../src/index.ts'
import { addButtons, button, step, validSpace } from './helpers.ts'

/** Asserts the space has exactly one problem and returns it. */
function onlyProblem(space: SpaceJson): Problem {
  const problems = validateSpace(space)
  expect(problems, JSON.stringify(problems)).toHaveLength(1)
  return problems[0]
}

function expectClean(space: SpaceJson): void {
  expect(validateSpace(space)).toEqual([])
}

const S1 = 'scenario/s1'
const st1 = (...rest: string[]): string[] => ['scenario', 'steps', 'st1', ...rest]

describe('the baseline space', () => {
  it('is clean', () => expectClean(validSpace()))
})

describe('callback data (≤ 64 UTF-8 bytes)', () => {
  const withData = (data: string): SpaceJson => {
    const space = validSpace()
    space.buttons.b1.action = { type: 'callback', data }
    return space
  }

  it('accepts 64 ASCII bytes and refuses 65', () => {
    expectClean(withData('a'.repeat(64)))
    const p = onlyProblem(withData('a'.repeat(65)))
    expect(p).toMatchObject({ document: 'buttons', path: ['buttons', 'b1', 'action', 'data'], code: 'callback-data-too-long' })
    expect(p.message).toBe('Callback data is 65 bytes; Telegram allows at most 64.')
  })

  it('counts multi-byte characters in bytes, not characters', () => {
    expectClean(withData('é'.repeat(32))) // 64 bytes
    expectClean(withData('😀'.repeat(16))) // 64 bytes
    expect(onlyProblem(withData('é'.repeat(32) + 'a')).code).toBe('callback-data-too-long') // 65 bytes
    // 22 characters only, but 66 bytes.
    const p = onlyProblem(withData('€'.repeat(22)))
    expect(p.code).toBe('callback-data-too-long')
    expect(p.message).toContain('66 bytes')
  })

  it('refuses empty data', () => {
    expect(onlyProblem(withData(''))).toMatchObject({ path: ['buttons', 'b1', 'action', 'data'], code: 'callback-data-empty' })
  })

  it('makes and parses the callback data the bot sends', () => {
    expect(callbackDataFor('b1')).toBe('b:b1')
    expect(parseCallbackData('b:b1')).toBe('b1')
    expect(parseCallbackData('b:')).toBeNull()
    expect(parseCallbackData('x:b1')).toBeNull()
  })

  it('checks that the callback data for a button id fits', () => {
    expect(validateButton('a'.repeat(62), button('x'))).toEqual([])
    const problems = validateButton('a'.repeat(63), button('x'))
    expect(problems).toMatchObject([{ document: 'buttons', path: ['buttons', 'a'.repeat(63)], code: 'callback-data-too-long' }])
  })
})

describe('message text (1–4096 characters)', () => {
  it('accepts 4096 and refuses 4097 in a step', () => {
    const ok = validSpace()
    ok.scenarioDocs.s1.steps.st1.message = 'x'.repeat(4096)
    expectClean(ok)
    const bad = validSpace()
    bad.scenarioDocs.s1.steps.st1.message = 'x'.repeat(4097)
    const p = onlyProblem(bad)
    expect(p).toMatchObject({ document: S1, path: st1('message'), code: 'message-too-long' })
    expect(p.message).toBe('Message text is 4097 characters; Telegram allows at most 4096.')
  })

  it('refuses empty and whitespace-only messages', () => {
    for (const message of ['', '  \n ']) {
      const space = validSpace()
      space.scenarioDocs.s1.steps.st1.message = message
      expect(onlyProblem(space)).toMatchObject({ document: S1, path: st1('message'), code: 'message-empty' })
    }
  })

  it('applies to settings texts', () => {
    const ok = validSpace()
    ok.settings.texts.welcome = 'w'.repeat(4096)
    expectClean(ok)
    const bad = validSpace()
    bad.settings.texts.welcome = 'w'.repeat(4097)
    expect(onlyProblem(bad)).toMatchObject({ document: 'settings', path: ['settings', 'texts', 'welcome'], code: 'message-too-long' })
    const empty = validSpace()
    empty.settings.texts.inputInvalid = ''
    expect(onlyProblem(empty)).toMatchObject({ path: ['settings', 'texts', 'inputInvalid'], code: 'message-empty' })
  })
})

describe('button text (non-empty, ≤ 64 characters)', () => {
  it('accepts 64 and refuses 65', () => {
    const ok = validSpace()
    ok.buttons.b1.text = 't'.repeat(64)
    expectClean(ok)
    const bad = validSpace()
    bad.buttons.b1.text = 't'.repeat(65)
    expect(onlyProblem(bad)).toMatchObject({ document: 'buttons', path: ['buttons', 'b1', 'text'], code: 'button-text-too-long' })
  })

  it('refuses empty text', () => {
    const bad = validSpace()
    bad.buttons.b1.text = ' '
    expect(onlyProblem(bad)).toMatchObject({ path: ['buttons', 'b1', 'text'], code: 'button-text-empty' })
  })

  it('reports a missing or malformed action', () => {
    const bad = validSpace()
    bad.buttons.b1.action = null
    expect(onlyProblem(bad)).toMatchObject({ path: ['buttons', 'b1', 'action'], code: 'action-invalid' })
  })
})

describe('url and web_app buttons', () => {
  const withAction = (action: NonNullable<SpaceJson['buttons'][string]['action']>): SpaceJson => {
    const space = validSpace()
    space.buttons.b1.action = action
    return space
  }

  it.each(['http://example.com', 'https://example.com/a?b=c', 'tg://resolve?domain=botfather', 'HTTPS://EXAMPLE.COM'])('accepts url %s', (url) =>
    expectClean(withAction({ type: 'url', url })),
  )

  it.each(['javascript:alert(1)', 'ftp://example.com', 'example.com', 'mailto:a@b.c', '', 'data:text/html,x'])('refuses url %j by scheme', (url) => {
    expect(onlyProblem(withAction({ type: 'url', url }))).toMatchObject({
      document: 'buttons',
      path: ['buttons', 'b1', 'action', 'url'],
      code: 'url-scheme-not-allowed',
    })
  })

  it.each(['http://', 'https:// example.com', ' https://example.com'])('refuses malformed url %j', (url) => {
    const p = onlyProblem(withAction({ type: 'url', url }))
    expect(p.path).toEqual(['buttons', 'b1', 'action', 'url'])
    expect(['url-invalid', 'url-scheme-not-allowed']).toContain(p.code)
  })

  it('accepts https web apps only', () => {
    expectClean(withAction({ type: 'web_app', url: 'https://app.example.com' }))
    for (const url of ['http://app.example.com', 'tg://resolve?domain=x', 'javascript:alert(1)']) {
      expect(onlyProblem(withAction({ type: 'web_app', url }))).toMatchObject({
        path: ['buttons', 'b1', 'action', 'url'],
        code: 'web-app-url-not-https',
      })
    }
  })

  it.each(['/miniapp', '/miniapp#faq', 'miniapp?startapp=x', 'miniapp', '../faq.html', 'pages/faq?x=1#top', '/'])("accepts web app %j, a page of the bot's own Mini App", (url) =>
    expectClean(withAction({ type: 'web_app', url })),
  )

  it('accepts a Mini App page in a reply keyboard too', () => {
    const space = withAction({ type: 'web_app', url: '/miniapp' })
    space.settings.mainMenu = []
    space.scenarioDocs.s1.steps.st1.keyboard = { kind: 'reply', rows: [['b1']] }
    expectClean(space)
  })

  it('says how to write a web app that has a scheme other than https', () => {
    for (const url of ['', 'miniapp:faq', 'HTTP://app.example.com']) {
      expect(onlyProblem(withAction({ type: 'web_app', url }))).toEqual({
        document: 'buttons',
        path: ['buttons', 'b1', 'action', 'url'],
        code: 'web-app-url-not-https',
        message: "URL must start with https://, or be a page of this bot's Mini App such as /miniapp.",
      })
    }
  })

  // URL parsing reads all of these as another host, not a path of the Mini App.
  it.each(['//evil.example.com/miniapp', '\\\\evil.example.com', '/\\evil.example.com', '\\/evil.example.com', '///evil.example.com'])(
    'refuses web app %j, which names another host without a scheme',
    (url) => {
      const p = onlyProblem(withAction({ type: 'web_app', url }))
      expect(p).toMatchObject({ path: ['buttons', 'b1', 'action', 'url'], code: 'web-app-url-protocol-relative' })
      expect(p.message).toContain('https://')
    },
  )

  it.each(['/mini app', ' /miniapp', '/miniapp\n', '/\t/evil.example.com', '\u0001//evil.example.com', '//'])('refuses malformed web app path %j', (url) => {
    expect(onlyProblem(withAction({ type: 'web_app', url }))).toEqual({
      document: 'buttons',
      path: ['buttons', 'b1', 'action', 'url'],
      code: 'url-invalid',
      message: 'URL is not a valid address.',
    })
  })

  it('refuses a web app path that is only a query or a fragment', () => {
    for (const url of ['#faq', '?startapp=x']) {
      const p = onlyProblem(withAction({ type: 'web_app', url }))
      expect(p).toMatchObject({ path: ['buttons', 'b1', 'action', 'url'], code: 'url-invalid' })
      expect(p.message).toContain('must start with / or a page name')
    }
  })

  it('keeps url buttons absolute: Telegram has no page to resolve a path against', () => {
    for (const url of ['/miniapp', 'miniapp?startapp=x', '//example.com']) {
      expect(onlyProblem(withAction({ type: 'url', url }))).toMatchObject({
        path: ['buttons', 'b1', 'action', 'url'],
        code: 'url-scheme-not-allowed',
        message: 'URL must start with http://, https://, tg://.',
      })
    }
  })

  it('refuses a url button in a reply keyboard', () => {
    const space = withAction({ type: 'url', url: 'https://example.com' })
    space.settings.mainMenu = [] // the menu is inline; keep only the step's keyboard
    space.scenarioDocs.s1.steps.st1.keyboard = { kind: 'reply', rows: [['b1']] }
    expect(onlyProblem(space)).toMatchObject({ document: S1, path: st1('keyboard', 'rows', '0', '0'), code: 'keyboard-button-unsupported' })
  })
})

describe('keyboard shapes', () => {
  const withRows = (kind: 'inline' | 'reply', rows: string[][]): SpaceJson => {
    const space = validSpace()
    space.scenarioDocs.s1.steps.st1.keyboard = { kind, rows }
    return space
  }

  it('allows 8 buttons per inline row, not 9', () => {
    const space = validSpace()
    const ids = addButtons(space, 9)
    const ok = withRows('inline', [ids.slice(0, 8)])
    Object.assign(ok.buttons, space.buttons)
    expectClean(ok)
    const bad = withRows('inline', [['b1'], ids])
    Object.assign(bad.buttons, space.buttons)
    const p = onlyProblem(bad)
    expect(p).toMatchObject({ document: S1, path: st1('keyboard', 'rows', '1'), code: 'keyboard-row-too-long' })
    expect(p.message).toContain('9 buttons')
  })

  it('allows 100 inline buttons in total, not 101', () => {
    const ok = withRows('inline', [])
    const ids = addButtons(ok, 101)
    const rowsOf = (n: number): string[][] => Array.from({ length: Math.ceil(n / 8) }, (_, r) => ids.slice(r * 8, Math.min(n, r * 8 + 8)))
    ok.scenarioDocs.s1.steps.st1.keyboard.rows = rowsOf(100)
    expectClean(ok)
    const bad = structuredClone(ok)
    bad.scenarioDocs.s1.steps.st1.keyboard.rows = rowsOf(101)
    expect(onlyProblem(bad)).toMatchObject({ document: S1, path: st1('keyboard', 'rows'), code: 'keyboard-too-many-buttons' })
  })

  it('allows 12 buttons per reply row, not 13', () => {
    const ok = withRows('reply', [])
    const ids = addButtons(ok, 13)
    ok.scenarioDocs.s1.steps.st1.keyboard.rows = [ids.slice(0, 12)]
    expectClean(ok)
    const bad = structuredClone(ok)
    bad.scenarioDocs.s1.steps.st1.keyboard.rows = [ids]
    expect(onlyProblem(bad)).toMatchObject({ path: st1('keyboard', 'rows', '0'), code: 'keyboard-row-too-long' })
  })

  it('treats the main menu as an inline keyboard', () => {
    const space = validSpace()
    const ids = addButtons(space, 9)
    space.settings.mainMenu = [ids.slice(0, 8)]
    expectClean(space)
    space.settings.mainMenu = [ids]
    expect(onlyProblem(space)).toMatchObject({ document: 'settings', path: ['settings', 'mainMenu', '0'], code: 'keyboard-row-too-long' })
  })
})

describe('trigger formats', () => {
  const withTrigger = (trigger: SpaceJson['scenarios'][string]['trigger']): SpaceJson => {
    const space = validSpace()
    space.scenarios.s1.trigger = trigger
    return space
  }

  it.each(['go', 'start_2', 'a'.repeat(32), '_'])('accepts command %j', (command) => expectClean(withTrigger({ command })))

  it.each(['a'.repeat(33), 'Go', '/go', 'go-now', 'go now', 'é'])('refuses command %j', (command) => {
    expect(onlyProblem(withTrigger({ command }))).toMatchObject({
      document: 'scenarios',
      path: ['scenarios', 's1', 'trigger', 'command'],
      code: 'command-invalid',
    })
  })

  it.each(['go', 'A-b_9', 'x'.repeat(64)])('accepts deep link %j', (deepLink) => expectClean(withTrigger({ deepLink })))

  it.each(['x'.repeat(65), 'a b', 'a.b', 'a=b', 'ü'])('refuses deep link %j', (deepLink) => {
    expect(onlyProblem(withTrigger({ deepLink }))).toMatchObject({
      document: 'scenarios',
      path: ['scenarios', 's1', 'trigger', 'deepLink'],
      code: 'deep-link-invalid',
    })
  })

  it('reports a trigger used by two enabled scenarios on the later one only', () => {
    const space = validSpace()
    space.scenarios.s2 = { id: 's2', title: 'S2', enabled: true, public: false, trigger: { command: 'go', text: 'hi' }, order: 1 }
    space.scenarioDocs.s2 = { entryStepId: 'a', steps: { a: step('a') }, stepOrder: ['a'] }
    expect(onlyProblem(space)).toMatchObject({ document: 'scenarios', path: ['scenarios', 's2', 'trigger', 'command'], code: 'trigger-duplicate' })
    space.scenarios.s2.enabled = false
    expectClean(space)
  })
})

describe('input variables', () => {
  it.each(['name', '_x', 'A1', 'a'.repeat(32)])('accepts %j', (name) => {
    const space = validSpace()
    space.scenarioDocs.s1.steps.st2.input = { var: name, kind: 'number' }
    expectClean(space)
  })

  it.each(['', '1abc', 'a-b', 'a b', 'a'.repeat(33)])('refuses %j', (name) => {
    const space = validSpace()
    space.scenarioDocs.s1.steps.st2.input = { var: name, kind: 'text' }
    expect(onlyProblem(space)).toMatchObject({ document: S1, path: ['scenario', 'steps', 'st2', 'input', 'var'], code: 'input-var-invalid' })
  })
})

describe('dangling references', () => {
  it('goto → missing scenario', () => {
    const space = validSpace()
    space.buttons.b2.action = { type: 'goto', scenarioId: 'nope' }
    expect(onlyProblem(space)).toMatchObject({ document: 'buttons', path: ['buttons', 'b2', 'action', 'scenarioId'], code: 'goto-scenario-missing' })
  })

  it('goto → missing step in an existing scenario', () => {
    const space = validSpace()
    space.buttons.b2.action = { type: 'goto', scenarioId: 's1', stepId: 'nope' }
    expect(onlyProblem(space)).toMatchObject({ document: 'buttons', path: ['buttons', 'b2', 'action', 'stepId'], code: 'goto-step-missing' })
  })

  it('keyboard row → missing button', () => {
    const space = validSpace()
    space.scenarioDocs.s1.steps.st1.keyboard.rows = [['b1', 'ghost']]
    expect(onlyProblem(space)).toMatchObject({ document: S1, path: st1('keyboard', 'rows', '0', '1'), code: 'keyboard-button-missing' })
  })

  it('step next → missing step', () => {
    const space = validSpace()
    space.scenarioDocs.s1.steps.st1.next = 'nope'
    expect(onlyProblem(space)).toMatchObject({ document: S1, path: st1('next'), code: 'next-step-missing' })
  })

  it('entryStepId → missing step, or unset', () => {
    for (const entryStepId of ['nope', '']) {
      const space = validSpace()
      space.scenarioDocs.s1.entryStepId = entryStepId
      expect(onlyProblem(space)).toMatchObject({ document: S1, path: ['scenario', 'entryStepId'], code: 'entry-step-missing' })
    }
  })

  it('main menu → missing button', () => {
    const space = validSpace()
    space.settings.mainMenu = [['b1'], ['ghost']]
    expect(onlyProblem(space)).toMatchObject({ document: 'settings', path: ['settings', 'mainMenu', '1', '0'], code: 'keyboard-button-missing' })
  })

  it('index entry → missing content document', () => {
    const space = validSpace()
    delete space.scenarioDocs.s1
    // The goto into s1's step cannot be checked without the content, so only this is reported.
    expect(onlyProblem(space)).toMatchObject({ document: S1, path: ['scenario'], code: 'scenario-document-missing' })
  })

  it('skips reference checks when no space is given', () => {
    expect(validateButton('b', button('b', { action: { type: 'goto', scenarioId: 'nope' } }))).toEqual([])
    const scenario = { entryStepId: 'a', steps: { a: step('a', { keyboard: { kind: 'inline', rows: [['ghost']] } }) }, stepOrder: ['a'] }
    expect(validateStep('s', scenario.steps.a, scenario)).toEqual([])
  })
})

describe('skipping broken entities', () => {
  it('finds problems by document and path prefix', () => {
    const space = validSpace()
    space.buttons.b1.text = ''
    space.scenarioDocs.s1.steps.st2.message = ''
    const problems = validateSpace(space)
    expect(problems).toHaveLength(2)
    expect(isEntityValid(problems, 'buttons', entityPath.button('b1'))).toBe(false)
    expect(isEntityValid(problems, 'buttons', entityPath.button('b2'))).toBe(true)
    expect(isEntityValid(problems, S1, entityPath.step('st1'))).toBe(true)
    expect(isEntityValid(problems, S1, entityPath.step('st2'))).toBe(false)
    expect(problemsFor(problems, S1)).toHaveLength(1)
    expect(problemsFor(problems, 'settings')).toEqual([])
    // A prefix longer than the problem's path does not match it.
    expect(problemsFor(problems, 'buttons', ['buttons', 'b1', 'text', 'deeper'])).toEqual([])
  })
})

describe('step media (one item, or an album of 2–10 photos and videos; caption ≤ 1024)', () => {
  const id = (n: number) => n.toString(16).padStart(64, '0')
  const info = (kind: MediaInfo['kind'], bytes = 1000): MediaInfo => ({ kind, mime: kind === 'photo' ? 'image/png' : 'video/mp4', bytes, name: `${kind}-${bytes}` })
  /** The baseline space with `items` on step st2 (no keyboard) and `library` as its media. */
  const withMedia = (items: MediaRef[], library: Record<string, MediaInfo> = Object.fromEntries(items.map((item) => [item.id, info(item.kind)]))): SpaceJson => {
    const space = validSpace()
    space.scenarioDocs.s1.steps.st2.media = { items }
    space.media = library
    return space
  }
  const st2 = (...rest: string[]): string[] => ['scenario', 'steps', 'st2', ...rest]

  it('accepts one item of every kind, and an album of 2 and of 10 photos and videos', () => {
    for (const kind of MEDIA_KINDS) expectClean(withMedia([{ id: id(1), kind }]))
    expectClean(
      withMedia([
        { id: id(1), kind: 'photo' },
        { id: id(2), kind: 'video' },
      ]),
    )
    expectClean(withMedia(Array.from({ length: 10 }, (_, i) => ({ id: id(i + 1), kind: i % 2 ? 'photo' : 'video' }) as MediaRef)))
  })

  it('refuses an album of 11', () => {
    const p = onlyProblem(withMedia(Array.from({ length: 11 }, (_, i) => ({ id: id(i + 1), kind: 'photo' }) as MediaRef)))
    expect(p).toMatchObject({ document: S1, path: st2('media'), code: 'album-too-large' })
    expect(p.message).toBe('An album has 11 items; Telegram allows 2–10.')
  })

  it('refuses other kinds than photos and videos in an album, but not alone', () => {
    const p = onlyProblem(
      withMedia([
        { id: id(1), kind: 'photo' },
        { id: id(2), kind: 'audio' },
      ]),
    )
    expect(p).toMatchObject({ path: st2('media', 'items', '1', 'kind'), code: 'album-kind-not-allowed' })
    expectClean(withMedia([{ id: id(2), kind: 'audio' }]))
  })

  it('refuses buttons on an album (sendMediaGroup has no keyboard), not on a single item', () => {
    const album = withMedia([
      { id: id(1), kind: 'photo' },
      { id: id(2), kind: 'photo' },
    ])
    album.scenarioDocs.s1.steps.st2.keyboard = { kind: 'inline', rows: [['b1']] }
    expect(onlyProblem(album)).toMatchObject({ path: st2('keyboard'), code: 'album-keyboard' })
    const single = withMedia([{ id: id(1), kind: 'photo' }])
    single.scenarioDocs.s1.steps.st2.keyboard = { kind: 'inline', rows: [['b1']] }
    expectClean(single)
  })

  it('takes the message as the caption: empty is fine, 1024 characters are, 1025 are not', () => {
    const empty = withMedia([{ id: id(1), kind: 'photo' }])
    empty.scenarioDocs.s1.steps.st2.message = ''
    expectClean(empty)
    const full = withMedia([{ id: id(1), kind: 'photo' }])
    full.scenarioDocs.s1.steps.st2.message = 'c'.repeat(1024)
    expectClean(full)
    const long = withMedia([{ id: id(1), kind: 'photo' }])
    long.scenarioDocs.s1.steps.st2.message = 'c'.repeat(1025)
    const p = onlyProblem(long)
    expect(p).toMatchObject({ path: st2('message'), code: 'caption-too-long' })
    expect(p.message).toBe('Caption is 1025 characters; Telegram allows at most 1024 under a photo, video or file.')
    // Counted in UTF-16 code units, as Telegram does: 512 emoji are 1024.
    const emoji = withMedia([{ id: id(1), kind: 'photo' }])
    emoji.scenarioDocs.s1.steps.st2.message = '😀'.repeat(513)
    expect(onlyProblem(emoji).code).toBe('caption-too-long')
  })

  it("refuses media the space's library lacks (and every item of a space without media)", () => {
    const p = onlyProblem(
      withMedia(
        [
          { id: id(1), kind: 'photo' },
          { id: id(2), kind: 'photo' },
        ],
        { [id(1)]: info('photo') },
      ),
    )
    expect(p).toMatchObject({ path: st2('media', 'items', '1', 'id'), code: 'media-missing' })
    const none = withMedia([{ id: id(1), kind: 'photo' }])
    delete none.media
    expect(onlyProblem(none).code).toBe('media-missing')
    // A hand-made id is not a stored file.
    expect(onlyProblem(withMedia([{ id: 'cat.jpg', kind: 'photo' }], {})).code).toBe('media-id-invalid')
  })

  it('sends a file as its own kind or as a document, and within the upload limit of that kind', () => {
    expectClean(withMedia([{ id: id(1), kind: 'document' }], { [id(1)]: info('photo') }))
    expect(onlyProblem(withMedia([{ id: id(1), kind: 'video' }], { [id(1)]: info('photo') }))).toMatchObject({
      path: st2('media', 'items', '0', 'kind'),
      code: 'media-kind-mismatch',
    })
    // A 12 MB photo may go as a document (≤ 50 MB), not as a photo (≤ 10 MB).
    expectClean(withMedia([{ id: id(1), kind: 'document' }], { [id(1)]: info('photo', 12 * 1024 * 1024) }))
    expect(onlyProblem(withMedia([{ id: id(1), kind: 'photo' }], { [id(1)]: info('photo', 12 * 1024 * 1024) }))).toMatchObject({
      path: st2('media', 'items', '0', 'id'),
      code: 'media-too-large',
    })
  })

  it('refuses a photo Telegram would not show as one (sides over 10000 together, or a ratio over 20), which may still go as a document', () => {
    const sized = (width: number, height: number): MediaInfo => ({ ...info('photo'), width, height })
    expectClean(withMedia([{ id: id(1), kind: 'photo' }], { [id(1)]: sized(5000, 5000) }))
    expectClean(withMedia([{ id: id(1), kind: 'photo' }], { [id(1)]: sized(2000, 100) }))
    const p = onlyProblem(withMedia([{ id: id(1), kind: 'photo' }], { [id(1)]: sized(6000, 4001) }))
    expect(p).toMatchObject({ path: st2('media', 'items', '0', 'id'), code: 'photo-dimensions-invalid' })
    expect(onlyProblem(withMedia([{ id: id(1), kind: 'photo' }], { [id(1)]: sized(2100, 100) })).code).toBe('photo-dimensions-invalid')
    expectClean(withMedia([{ id: id(1), kind: 'document' }], { [id(1)]: sized(6000, 4001) }))
  })

  it('makes the bot skip just that step', () => {
    const problems = validateSpace(withMedia([{ id: id(1), kind: 'photo' }], {}))
    expect(isEntityValid(problems, S1, entityPath.step('st2'))).toBe(false)
    expect(isEntityValid(problems, S1, entityPath.step('st1'))).toBe(true)
  })

  it('keeps a text step as it was: empty still refused, 4096 still the limit', () => {
    const space = validSpace()
    space.scenarioDocs.s1.steps.st2.message = ''
    expect(onlyProblem(space).code).toBe('message-empty')
  })
})
