// The step preview's state (live from the documents) and its drawing: real
// button labels, url buttons marked ↗, the linkPreviews switch, the album
// grid and file rows, problems on the bubble.
import { render } from '@testing-library/svelte'
import { flushSync } from 'svelte'
import { describe, expect, it } from 'vitest'
import { docName, getFlag, setButton, setFlag, setKeyboard, setStepMedia, setStepMessage } from '@botsync/shared-docs'
import MessagePreview from '../src/lib/preview/message-preview.svelte'
import { messageOfSimulated, type RenderedMessage } from '../src/lib/preview/rendered-message.ts'
import { StepPreviewState } from '../src/lib/preview/step-preview-state.svelte.ts'
import { ScenarioEditorState } from '../src/lib/scenarios/scenario-editor-state.svelte.ts'
import { SettingsState } from '../src/lib/settings/settings-state.svelte.ts'
import { LocalSource } from './local-source.ts'

const id = (c: string) => c.repeat(64)

function setup() {
  const source = LocalSource.seeded('demo')
  const editor = new ScenarioEditorState(source, 'demo', 'onboarding')
  const preview = new StepPreviewState(editor, 'u1')
  return { source, editor, preview }
}

describe('StepPreviewState', () => {
  it('follows the step, the buttons and the settings as they change', () => {
    const { source, editor, preview } = setup()
    let seen: RenderedMessage | null = null
    const stop = $effect.root(() => {
      $effect(() => {
        seen = preview.message('welcome')
      })
    })
    flushSync()
    expect(seen!.text).toBe("Hi! Let's get you set up. It takes less than a minute.")
    expect(seen!.keyboard?.rows.map((row) => row.map((b) => b.label))).toEqual([["Let's go"], ['Maybe later']])
    expect(seen!.linkPreview).toBe(true)

    source.document(docName.scenario('demo', 'onboarding')).doc.transact((doc) => setStepMessage(doc.doc, 'welcome', 'x'.repeat(4097)))
    source.document(docName.buttons('demo')).doc.transact((doc) => setButton(doc.doc, 'ob_later', { text: 'Not now', action: { type: 'end' } }))
    source.document(docName.settings('demo')).doc.transact((doc) => setFlag(doc.doc, 'linkPreviews', false))
    flushSync()
    expect(seen!.text).toHaveLength(4097)
    expect(seen!.problems.map((p) => p.code)).toEqual(['message-too-long'])
    expect(seen!.keyboard?.rows[1][0].label).toBe('Not now')
    expect(seen!.linkPreview).toBe(false)
    stop()
    editor.destroy()
  })
})

describe('MessagePreview', () => {
  it('draws the keyboard with the real labels, ↗ on a url button, problems on the bubble and no link card when previews are off', () => {
    const { source, editor, preview } = setup()
    const content = source.document(docName.scenario('demo', 'onboarding')).doc
    setStepMessage(content, 'finish', 'See https://example.com/x')
    setKeyboard(content, 'finish', { kind: 'inline', rows: [['support', 'website']] })
    const message = preview.message('finish')!
    const view = render(MessagePreview, { message })
    const buttons = view.getByTestId('preview-inline-keyboard').querySelectorAll('button')
    expect([...buttons].map((b) => b.textContent)).toEqual(['Support', 'Website↗'])
    expect(view.getByTestId('preview-link-card').textContent).toContain('example.com')
    view.unmount()

    const off = render(MessagePreview, {
      message: { ...message, linkPreview: false, problems: [{ code: 'caption-too-long', message: 'Caption is 1100 characters; Telegram allows at most 1024.' }] },
    })
    expect(off.queryByTestId('preview-link-card')).toBeNull()
    expect(off.getByTestId('preview-problems').textContent).toContain('at most 1024')
    expect(off.container.querySelector('.tg-bubble')?.getAttribute('aria-invalid')).toBe('true')
    editor.destroy()
  })

  it('lays an album out as a grid of tiles and a document as a file row; without bytes, placeholder tiles', () => {
    const { source, editor, preview } = setup()
    const content = source.document(docName.scenario('demo', 'onboarding')).doc
    setStepMedia(content, 'finish', {
      items: [
        { id: id('a'), kind: 'photo' },
        { id: id('b'), kind: 'video' },
        { id: id('c'), kind: 'photo' },
      ],
    })
    const album = render(MessagePreview, { message: preview.message('finish')! })
    const grid = album.getByTestId('preview-media')
    expect(grid.classList.contains('tg-media-3')).toBe(true)
    expect([...grid.querySelectorAll('.tg-media-tile')].map((tile) => tile.getAttribute('data-kind'))).toEqual(['photo', 'video', 'photo'])
    expect(grid.querySelectorAll('.tg-media-placeholder')).toHaveLength(3)
    album.unmount()
    setStepMedia(content, 'finish', { items: [{ id: id('d'), kind: 'document' }] })
    const file = render(MessagePreview, { message: preview.message('finish')! })
    expect(file.queryByTestId('preview-media')).toBeNull()
    expect(file.container.querySelector('.tg-file')?.getAttribute('data-kind')).toBe('document')
    editor.destroy()
  })

  it('draws what the simulated bot sent: a reply keyboard at the bottom, and presses it', () => {
    const pressed: string[] = []
    const message = messageOfSimulated({
      messageId: 3,
      method: 'sendMessage',
      text: 'Pick one',
      entities: [{ type: 'bold', offset: 0, length: 4 }],
      replyMarkup: { keyboard: [[{ text: 'Yes' }, { text: 'No' }]], resize_keyboard: true },
      linkPreview: true,
    })
    const view = render(MessagePreview, { message, onpress: (button) => pressed.push(button.label) })
    expect(view.getByTestId('preview-text').innerHTML).toBe('<strong>Pick</strong> one')
    const reply = view.getByTestId('preview-reply-keyboard').querySelectorAll('button')
    reply[1].click()
    expect(pressed).toEqual(['No'])
  })
})

describe("Settings' Link previews switch", () => {
  it('is listed and on while the document does not hold it, and switching it off writes false', () => {
    const source = LocalSource.seeded('demo')
    const page = new SettingsState(source, 'demo')
    expect(page.flagKeys).toContain('linkPreviews')
    expect(page.flag('linkPreviews')).toBe(true)
    page.setFlag('linkPreviews', false)
    expect(page.flag('linkPreviews')).toBe(false)
    expect(getFlag(source.document(docName.settings('demo')).doc, 'linkPreviews')).toBe(false)
  })
})
