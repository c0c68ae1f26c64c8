// Other admins' carets and selections inside one message, drawn by
// quill-cursors with their name and presence colour (user-color.ts, set as
// awareness `user` by the DocumentHandle).
//
// The awareness field is y-quill's own (`cursor: {anchor, head}`, Yjs
// relative positions), but y-quill's binding assumes one editor per
// awareness: a scenario has one awareness for all of its steps' messages,
// so its binding would clear this admin's caret whenever another message
// of the page changed, and leave another admin's caret in the message they
// left. Here each editor shows a caret only while its relative position
// resolves into its own Y.Text, and clears the field only if it points there.
import type Quill from 'quill/core'
import type QuillCursors from 'quill-cursors/core'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'

interface CursorField {
  anchor: unknown
  head: unknown
}

function asCursor(value: unknown): CursorField | null {
  if (typeof value !== 'object' || value === null) return null
  const v = value as Record<string, unknown>
  return v.anchor !== undefined && v.head !== undefined ? { anchor: v.anchor, head: v.head } : null
}

export class RemoteCarets {
  readonly #quill: Quill
  readonly #cursors: QuillCursors
  readonly #text: Y.Text
  readonly #awareness: Awareness

  constructor(quill: Quill, cursors: QuillCursors, text: Y.Text, awareness: Awareness) {
    this.#quill = quill
    this.#cursors = cursors
    this.#text = text
    this.#awareness = awareness
    quill.on('editor-change', this.#onEditorChange)
    awareness.on('change', this.#render)
    this.#render()
  }

  /** The index range a peer's cursor field covers in this text, or null when it is elsewhere. */
  #resolve(field: CursorField | null): { index: number; length: number } | null {
    const doc = this.#text.doc
    if (!field || !doc) return null
    try {
      const anchor = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(field.anchor), doc)
      const head = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(field.head), doc)
      if (!anchor || !head || anchor.type !== this.#text || head.type !== this.#text) return null
      const start = Math.min(anchor.index, head.index)
      return { index: start, length: Math.abs(head.index - anchor.index) }
    } catch {
      return null // a malformed field from a buggy client
    }
  }

  #onEditorChange = (): void => {
    const range = this.#quill.getSelection()
    const own = this.#awareness.getLocalState()
    if (own === null) return
    if (range) {
      const anchor = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(this.#text, range.index))
      const head = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(this.#text, range.index + range.length))
      const current = asCursor(own.cursor)
      if (!current || JSON.stringify(current) !== JSON.stringify({ anchor, head })) this.#awareness.setLocalStateField('cursor', { anchor, head })
    } else if (this.#resolve(asCursor(own.cursor)) !== null) {
      // Left this message (and not for another one, which has set its own by now).
      this.#awareness.setLocalStateField('cursor', null)
    }
    this.#render()
  }

  #render = (): void => {
    const self = this.#awareness.clientID
    const seen = new Set<string>()
    this.#awareness.getStates().forEach((state, clientId) => {
      if (clientId === self) return
      const range = this.#resolve(asCursor(state.cursor))
      if (!range) return
      const id = String(clientId)
      const user = (state.user ?? {}) as { name?: unknown; color?: unknown }
      seen.add(id)
      this.#cursors.createCursor(id, typeof user.name === 'string' ? user.name : 'Someone', typeof user.color === 'string' ? user.color : '#555')
      this.#cursors.moveCursor(id, range)
      this.#cursors.toggleFlag(id, true) // their name stays on their caret, not only on hover
    })
    for (const cursor of this.#cursors.cursors()) if (!seen.has(cursor.id)) this.#cursors.removeCursor(cursor.id)
  }

  destroy(): void {
    this.#quill.off('editor-change', this.#onEditorChange)
    this.#awareness.off('change', this.#render)
    this.#cursors.clearCursors()
    // Deferred like PresenceState.clearFocus: this runs while components are torn down.
    queueMicrotask(() => {
      const own = this.#awareness.getLocalState()
      if (own !== null && this.#resolve(asCursor(own.cursor)) !== null) this.#awareness.setLocalStateField('cursor', null)
    })
  }
}
