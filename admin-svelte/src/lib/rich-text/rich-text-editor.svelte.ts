// One message's rich-text editor: Quill bound to the message's Y.Text by
// y-quill, with Telegram's formats (telegram-formats.ts), other admins'
// carets (remote-carets.ts) and the page's per-user undo (page-history.ts).
// `current` is the formatting at this admin's selection, for the toolbar.
import Quill from 'quill/core'
import type { Range } from 'quill/core'
import Delta from 'quill-delta'
import type QuillCursorsModule from 'quill-cursors/core'
import * as quillCursorsExports from 'quill-cursors/core'
import { createSubscriber } from 'svelte/reactivity'
import { QuillBinding } from 'y-quill'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import type { FormatAttribute } from '@botsync/shared-docs'
import type { UndoHistory } from '../yjs/undo-history.svelte.ts'
import { OneEditInput } from './one-edit-input.ts'
import { PageHistory } from './page-history.ts'
import { RemoteCarets } from './remote-carets.ts'
import { QUILL_FORMATS, linkUrlProblem, registerTelegramFormats } from './telegram-formats.ts'

// quill-cursors ships only a UMD bundle (webpack's, with its own
// __esModule flag), and Vite's build and Node's interop wrap it in one or
// two `default`s: the class is the first function found unwrapping them.
type QuillCursors = QuillCursorsModule
function moduleClass(exports: unknown): unknown {
  let value = exports
  for (let depth = 0; depth < 3 && typeof value !== 'function' && typeof value === 'object' && value !== null; depth++) value = (value as { default?: unknown }).default
  return value
}
const QuillCursors = moduleClass(quillCursorsExports) as typeof QuillCursorsModule

/** The formatting at the selection: true (or a pre's language, a link's URL) where it applies. */
export type ActiveFormats = Partial<Record<FormatAttribute, string | true>>

/** Formats a line break inside them continues (Enter in a quote stays in the quote). */
const SPANS_LINES: readonly FormatAttribute[] = ['blockquote', 'expandable_blockquote', 'pre']

export interface RichTextEditorOptions {
  text: Y.Text
  awareness: Awareness | null
  undo: UndoHistory | null
  readOnly: boolean
  placeholder?: string
  /** Ctrl/Cmd+K: the component opens its link popover. */
  onLinkShortcut: () => void
}

let modulesRegistered = false
function registerModules(): void {
  if (modulesRegistered) return
  modulesRegistered = true
  registerTelegramFormats()
  Quill.register({ 'modules/history': PageHistory, 'modules/input': OneEditInput, 'modules/cursors': QuillCursors }, true)
}

export class RichTextEditor {
  readonly #quill: Quill
  readonly #binding: QuillBinding
  readonly #carets: RemoteCarets | null
  readonly #undo: UndoHistory | null
  readonly #subscribe: () => void
  /** The last selection this admin had here (kept while a toolbar button or the link popover has focus). */
  #range: Range | null = null

  constructor(host: HTMLElement, options: RichTextEditorOptions) {
    registerModules()
    this.#undo = options.undo
    const format = (name: FormatAttribute) => () => this.toggle(name)
    this.#quill = new Quill(host, {
      formats: [...QUILL_FORMATS],
      readOnly: options.readOnly,
      placeholder: options.placeholder,
      modules: {
        history: { undo: options.undo },
        input: { transact: (change: () => void) => options.text.doc?.transact(change, this.#binding) },
        cursors: { hideDelayMs: 60_000, transformOnTextChange: true },
        keyboard: {
          bindings: {
            // Tab leaves the field, as from the textarea before (a Telegram message has no tabs to type).
            tab: false,
            'remove tab': false,
            bold: { key: 'b', shortKey: true, handler: format('bold') },
            italic: { key: 'i', shortKey: true, handler: format('italic') },
            underline: { key: 'u', shortKey: true, handler: format('underline') },
            strikethrough: { key: ['x', 'X'], shortKey: true, shiftKey: true, handler: format('strikethrough') },
            spoiler: { key: ['p', 'P'], shortKey: true, shiftKey: true, handler: format('spoiler') },
            code: { key: ['m', 'M'], shortKey: true, shiftKey: true, handler: format('code') },
            link: {
              key: ['k', 'K'],
              shortKey: true,
              handler: () => {
                options.onLinkShortcut()
                return false
              },
            },
            'line break in a quote': { key: 'Enter', shiftKey: null, handler: (range: Range, context: { format: Record<string, unknown> }) => this.#enter(range, context.format) },
          },
        },
      },
    })
    // y-quill writes with the binding as the transaction origin: this
    // admin's edits, so the page's undo tracks them (and only them) and the
    // document handle counts them as unsaved until the server has them.
    // Carets are drawn by RemoteCarets instead of the binding (see there).
    this.#binding = new QuillBinding(options.text, this.#quill)
    options.undo?.trackOrigin(this.#binding)
    const cursors = this.#quill.getModule('cursors') as QuillCursors
    this.#carets = options.awareness ? new RemoteCarets(this.#quill, cursors, options.text, options.awareness) : null
    this.#quill.on('selection-change', (range: Range | null) => {
      if (range) this.#range = range
    })
    this.#subscribe = createSubscriber((update) => {
      this.#quill.on('editor-change', update)
      return () => this.#quill.off('editor-change', update)
    })
  }

  /** The editable element (Quill's root), for ids and ARIA attributes. */
  get root(): HTMLElement {
    return this.#quill.root
  }

  /** Formatting at the selection (the toolbar's pressed buttons). */
  get current(): ActiveFormats {
    this.#subscribe()
    const range = this.#quill.getSelection() ?? this.#range
    if (!range) return {}
    const formats = this.#quill.getFormat(range)
    const active: ActiveFormats = {}
    for (const name of QUILL_FORMATS) {
      const value = formats[name]
      if (typeof value === 'string' && value !== '') active[name] = value
      else if (value === true) active[name] = true
    }
    return active
  }

  /** What Quill holds (its model ends with the "\n" every Quill document has). */
  contents(): Delta {
    return this.#quill.getContents()
  }

  /** Selects `length` code units from `index`, as this admin would. */
  select(index: number, length = 0): void {
    this.#quill.setSelection(index, length, 'user')
  }

  setReadOnly(readOnly: boolean): void {
    this.#quill.enable(!readOnly)
  }

  /** Sets `name` on the selection, or clears it where the whole selection has it; one undo step. */
  toggle(name: FormatAttribute, value: string | true = true): boolean {
    const range = this.#selection()
    if (!range) return false
    const on = this.#quill.getFormat(range)[name]
    const next = on && (name !== 'pre' || on === value) ? false : value
    this.#discrete(() => {
      if (range.length === 0) this.#quill.format(name, next, 'user')
      else this.#quill.formatText(range.index, range.length, name, next, 'user')
    })
    return false
  }

  /** The link at the selection (the whole run of one URL around a caret), if any. */
  linkAtSelection(): { url: string; index: number; length: number } | null {
    const range = this.#range
    if (!range) return null
    const url = this.#quill.getFormat(range).text_link
    if (typeof url !== 'string') return null
    if (range.length > 0) return { url, index: range.index, length: range.length }
    // Widen a caret to the run of text linked to this URL.
    let position = 0
    let start = -1
    let end = -1
    for (const op of this.#quill.getContents().ops) {
      const length = typeof op.insert === 'string' ? op.insert.length : 1
      const linked = op.attributes?.text_link === url
      if (linked && start === -1) start = position
      if (!linked && start !== -1) {
        if (position >= range.index) {
          end = position
          break
        }
        start = -1
      }
      position += length
      if (linked) end = position
    }
    return start !== -1 && start <= range.index ? { url, index: start, length: end - start } : null
  }

  /**
   * Links the selection (or the link around the caret) to `url`; a caret
   * with no link inserts the URL as its own text. Returns the validation
   * message instead when Telegram would refuse the URL; nothing changes then.
   */
  setLink(url: string): string | null {
    const problem = linkUrlProblem(url)
    if (problem) return problem
    const range = this.#range ?? { index: Math.max(0, this.#quill.getLength() - 1), length: 0 }
    const existing = this.linkAtSelection()
    this.#discrete(() => {
      if (existing) this.#quill.formatText(existing.index, existing.length, 'text_link', url, 'user')
      else if (range.length > 0) this.#quill.formatText(range.index, range.length, 'text_link', url, 'user')
      else {
        this.#quill.insertText(range.index, url, { text_link: url }, 'user')
        this.#range = { index: range.index + url.length, length: 0 }
      }
    })
    this.focus()
    return null
  }

  removeLink(): void {
    const existing = this.linkAtSelection()
    if (existing) this.#discrete(() => this.#quill.formatText(existing.index, existing.length, 'text_link', false, 'user'))
    this.focus()
  }

  focus(): void {
    this.#quill.focus()
    if (this.#range) this.#quill.setSelection(this.#range, 'silent')
  }

  #selection(): Range | null {
    return this.#quill.getSelection() ?? this.#range
  }

  /** A click or a shortcut is an undo step of its own, never merged with the typing around it. */
  #discrete(change: () => void): void {
    this.#undo?.stopCapturing()
    change()
    this.#undo?.stopCapturing()
  }

  /** Enter inside a quote or pre keeps the line break in it, so the quote stays one entity. */
  #enter(range: Range, format: Record<string, unknown>): boolean {
    const carried: Record<string, unknown> = {}
    for (const name of SPANS_LINES) if (format[name]) carried[name] = format[name]
    if (Object.keys(carried).length === 0) return true // Quill's own Enter
    this.#quill.updateContents(new Delta().retain(range.index).delete(range.length).insert('\n', carried), 'user')
    this.#quill.setSelection(range.index + 1, 'silent')
    // Like Quill's Enter: what is typed next keeps the formatting of the line above.
    for (const [name, value] of Object.entries(format)) if (name !== 'text_link') this.#quill.format(name, value, 'user')
    return false
  }

  destroy(): void {
    this.#undo?.untrackOrigin(this.#binding)
    this.#carets?.destroy()
    this.#binding.destroy()
  }
}
