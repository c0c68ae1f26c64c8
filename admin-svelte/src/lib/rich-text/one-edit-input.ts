// Typing over a selection (or pasting plain text over one, or the browser's
// "fill") is one edit for the person making it, but Quill's input module
// writes it as a deletion and then an insertion: two Yjs updates, two
// "unsaved changes" and a window where others see the selection gone.
// This one runs that replacement inside one transaction (the binding's
// origin, so y-quill's own transaction joins it and undo tracks it).
import type Quill from 'quill/core'
import type { Range } from 'quill/core'
import Input from 'quill/modules/input'

export interface OneEditInputOptions {
  transact?: (change: () => void) => void
}

interface Replacing {
  replaceText(range: Range, text?: string): boolean
}

export class OneEditInput extends Input {
  constructor(quill: Quill, options: OneEditInputOptions) {
    super(quill, {})
    const self = this as unknown as Replacing
    const replace = self.replaceText.bind(this)
    const transact = options.transact ?? ((change: () => void) => change())
    self.replaceText = (range, text) => {
      let replaced = false
      transact(() => {
        replaced = replace(range, text)
      })
      return replaced
    }
  }
}
