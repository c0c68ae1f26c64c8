// Quill always creates a "history" module (its core calls it). This one
// keeps no history of its own: the page's UndoHistory (per user, across the
// page's fields and documents) is the only one, so Quill's own stack cannot
// undo another admin's edit or disagree with the header's buttons.
// Ctrl/Cmd+Z reaches the page's window handler as before; here only the
// browser's own undo commands (the context menu's Undo) are routed to it.
import Module from 'quill/core/module'
import type Quill from 'quill/core'
import type { UndoHistory } from '../yjs/undo-history.svelte.ts'

export interface PageHistoryOptions {
  undo: UndoHistory | null
}

export class PageHistory extends Module<PageHistoryOptions> {
  static DEFAULTS: PageHistoryOptions = { undo: null }

  constructor(quill: Quill, options: Partial<PageHistoryOptions>) {
    super(quill, options)
    quill.root.addEventListener('beforeinput', (event) => {
      if (event.inputType === 'historyUndo') {
        event.preventDefault()
        this.options.undo?.undo()
      } else if (event.inputType === 'historyRedo') {
        event.preventDefault()
        this.options.undo?.redo()
      }
    })
  }

  /** Quill calls this around discrete changes (a tab, a paste): one undo step each. */
  cutoff(): void {
    this.options.undo?.stopCapturing()
  }

  clear(): void {}
  undo(): void {
    this.options.undo?.undo()
  }
  redo(): void {
    this.options.undo?.redo()
  }
}
