// The rich-text editor against real Quill, y-quill and Yjs (jsdom): the
// message's Y.Text and what Quill holds stay the same formatting, including
// quotes and pre blocks over several lines, in both directions.
import { entitiesOf, type MessageEntity } from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RichTextEditor } from '../src/lib/rich-text/rich-text-editor.svelte.ts'
import { UndoHistory } from '../src/lib/yjs/undo-history.svelte.ts'
import { link } from './local-source.ts'

// jsdom lays nothing out; Quill asks a selection's bounds to scroll it into view.
Range.prototype.getBoundingClientRect ??= () => new DOMRect()
Range.prototype.getClientRects ??= () => [] as unknown as DOMRectList

const editors: RichTextEditor[] = []

function mount(text: Y.Text, undo: UndoHistory | null = null): RichTextEditor {
  const host = document.createElement('div')
  document.body.append(host)
  const editor = new RichTextEditor(host, { text, awareness: null, undo, readOnly: false, onLinkShortcut: () => {} })
  editors.push(editor)
  return editor
}

/** Quill's contents as a Y.Text of its own: Y.Text → Quill → Y.Text. */
function throughQuill(editor: RichTextEditor): Y.Text {
  const ops = editor.contents().ops
  const copy = new Y.Doc().getText('copy')
  copy.applyDelta(ops)
  // Every Quill document ends with one "\n" of its own, never in the Y.Text.
  copy.delete(copy.length - 1, 1)
  return copy
}

function message(): Y.Text {
  const doc = new Y.Doc()
  const text = doc.getText('message')
  //             0         1         2         3         4
  //             0123456789012345678901234567890123456789012345
  text.insert(0, 'Quoted one\nquoted two\nHi {name}, see docs\nx = 1\ny = 2')
  text.format(0, 21, { blockquote: true }) // both lines and the "\n" between them
  text.format(25, 6, { bold: true }) // "{name}"
  text.format(37, 4, { text_link: 'https://example.com/docs' })
  text.format(42, 11, { pre: 'python' })
  text.format(3, 4, { spoiler: true })
  return text
}

afterEach(() => {
  for (const editor of editors.splice(0)) editor.destroy()
  document.body.replaceChildren()
})

describe('RichTextEditor', () => {
  it('holds exactly the Y.Text’s formatting, a quote over two lines still one quote', () => {
    const text = message()
    const before = entitiesOf(text)
    expect(before.entities).toContainEqual({ type: 'blockquote', offset: 0, length: 21 })
    const editor = mount(text)
    expect(entitiesOf(throughQuill(editor))).toEqual(before)
    // Shown as Telegram formats, with the variable left as typed.
    const root = editor.root
    expect(root.querySelector('strong')?.textContent).toBe('{name}')
    expect(root.querySelector('a')?.getAttribute('href')).toBe('https://example.com/docs')
    expect(root.querySelector('.tg-pre')?.getAttribute('data-language')).toBe('python')
    expect(root.querySelectorAll('.tg-blockquote')).toHaveLength(2)
  })

  it('quotes a selection over two lines as one range, newline included, and unquotes it', () => {
    const doc = new Y.Doc()
    const text = doc.getText('message')
    text.insert(0, 'first line\nsecond line')
    const editor = mount(text)
    editor.select(0, 22)
    editor.toggle('blockquote')
    expect(entitiesOf(text).entities).toEqual([{ type: 'blockquote', offset: 0, length: 22 }])
    expect(entitiesOf(throughQuill(editor))).toEqual(entitiesOf(text))
    editor.select(0, 22)
    editor.toggle('blockquote')
    expect(entitiesOf(text).entities).toEqual([])
  })

  it('keeps Quill and the Y.Text equal when another admin edits formatted lines', () => {
    const text = message()
    const editor = mount(text)
    const other = new Y.Doc()
    link(text.doc!, other)
    const theirs = other.getText('message')
    // A line break inside the quote, bold text typed at the end of the second quoted line, a pre unset.
    theirs.insert(5, '\n', { blockquote: true })
    theirs.insert(22, ' (bold)', { blockquote: true, bold: true })
    theirs.format(0, 3, { blockquote: null })
    theirs.format(theirs.length - 5, 5, { pre: null })
    expect(text.toString()).toBe(theirs.toString())
    expect(entitiesOf(throughQuill(editor))).toEqual(entitiesOf(theirs))
  })

  it('writes this admin’s formatting to the Y.Text, undone by the page’s undo and not another admin’s', () => {
    const doc = new Y.Doc()
    const text = doc.getText('message')
    text.insert(0, 'one two three')
    const undo = new UndoHistory([text])
    const editor = mount(text, undo)
    const other = new Y.Doc()
    link(doc, other)

    editor.select(0, 3)
    editor.toggle('bold')
    other.getText('message').format(8, 5, { bold: true })
    const bold = (entities: MessageEntity[]) => entities.filter((e) => e.type === 'bold').map((e) => text.toString().slice(e.offset, e.offset + e.length))
    expect(bold(entitiesOf(text).entities)).toEqual(['one', 'three'])

    expect(undo.undo()).toBe(true)
    expect(bold(entitiesOf(text).entities)).toEqual(['three'])
    expect(entitiesOf(throughQuill(editor))).toEqual(entitiesOf(text))
    undo.destroy()
  })

  it('refuses a link Telegram would not open, with validation’s wording, and links an https URL', () => {
    const doc = new Y.Doc()
    const text = doc.getText('message')
    text.insert(0, 'read the docs')
    const editor = mount(text)
    editor.select(9, 4)
    expect(editor.setLink('javascript:alert(1)')).toBe('URL must start with http://, https://, tg://.')
    expect(entitiesOf(text).entities).toEqual([])
    expect(editor.setLink('https://example.com')).toBeNull()
    expect(entitiesOf(text).entities).toEqual([{ type: 'text_link', offset: 9, length: 4, url: 'https://example.com' }])
  })
})
