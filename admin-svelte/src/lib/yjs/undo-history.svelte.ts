// Per-user undo/redo. One Y.UndoManager per document, for as long as the
// document is open in the tab (the collaboration session keeps a document
// with history open: collab-session.svelte.ts), so leaving a page and coming
// back keeps what Ctrl+Z can undo. A page's UndoHistory is a view over the
// managers of the documents it edits (a scenario's content, its index entry
// and the buttons, say): its undo takes back the newest change among them.
//
// Written here rather than with y-utility's YMultiDocUndoManager (which the
// pages used before): that one owns its per-document managers and its
// cross-document order, and both end with the page; here the managers belong
// to the documents and the order is a stamp on each stack item, so any page
// showing a document reaches the same history.
import { createSubscriber } from 'svelte/reactivity'
import * as Y from 'yjs'
import type { AnyYType } from '@botsync/shared-docs'
import { LOCAL_EDIT } from './edit-origin.ts'

/** The manager's events after which canUndo or canRedo may have changed. */
const STACK_EVENTS = ['stack-item-added', 'stack-item-popped', 'stack-cleared', 'stack-item-updated'] as const
/** Stack item meta: when (in `clock` ticks) it was made, so pages can order items across documents. */
const STAMP = 'botsync:stamp'

let clock = 0
/** While set, every stack item made or grown gets this stamp: one undo step across documents. */
let group: number | null = null

const managers = new WeakMap<Y.Doc, Y.UndoManager>()

function stamp(event: { stackItem: { meta: Map<string, unknown> } }): void {
  event.stackItem.meta.set(STAMP, group ?? ++clock)
}

/** The document's own manager (made on first use), with `type` in its scope. */
function managerOf(type: AnyYType): Y.UndoManager {
  const doc = type.doc
  if (!doc) throw new TypeError('Only a type inside a document has an undo history')
  let manager = managers.get(doc)
  if (!manager) {
    // Only LOCAL_EDIT transactions (and the editor bindings' origins a page
    // adds) are captured: remote edits and IndexedDB restores are never undone by this user.
    manager = new Y.UndoManager([type], { trackedOrigins: new Set([LOCAL_EDIT]), captureTimeout: 600 })
    manager.on('stack-item-added', stamp)
    manager.on('stack-item-updated', stamp)
    managers.set(doc, manager)
  } else if (!manager.scope.includes(type as Y.AbstractType<unknown>)) manager.addToScope([type as Y.AbstractType<unknown>])
  return manager
}

/** Whether this user has something to undo or redo in the document: the session keeps such a document open. */
export function hasUndoHistory(doc: Y.Doc): boolean {
  const manager = managers.get(doc)
  return manager !== undefined && (manager.canUndo() || manager.canRedo())
}

type Stack = 'undoStack' | 'redoStack'

function topStamp(manager: Y.UndoManager, stack: Stack): number | null {
  const item = manager[stack].at(-1)
  return item ? ((item.meta.get(STAMP) as number | undefined) ?? 0) : null
}

export class UndoHistory {
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  readonly #managers = new Set<Y.UndoManager>()
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  readonly #origins = new Set<object>()
  readonly #subscribe: () => void
  /** The subscriber's update while some effect reads canUndo/canRedo; a manager tracked meanwhile joins it. */
  #update: (() => void) | null = null

  constructor(scope: AnyYType[] = []) {
    this.#subscribe = createSubscriber((update) => {
      this.#update = update
      for (const manager of this.#managers) for (const event of STACK_EVENTS) manager.on(event, update)
      return () => {
        this.#update = null
        for (const manager of this.#managers) for (const event of STACK_EVENTS) manager.off(event, update)
      }
    })
    for (const type of scope) this.track(type)
  }

  get canUndo(): boolean {
    this.#subscribe()
    return [...this.#managers].some((manager) => manager.canUndo())
  }

  get canRedo(): boolean {
    this.#subscribe()
    return [...this.#managers].some((manager) => manager.canRedo())
  }

  /** Adds a type (of any document) to what this page undoes. */
  track(type: AnyYType): void {
    const manager = managerOf(type)
    if (this.#managers.has(manager)) return
    this.#managers.add(manager)
    for (const origin of this.#origins) manager.addTrackedOrigin(origin)
    if (this.#update) {
      for (const event of STACK_EVENTS) manager.on(event, this.#update)
      this.#update()
    }
  }

  /**
   * Also undoes transactions with this origin: an editor binding that writes
   * this user's typing under its own origin (y-quill's QuillBinding) rather
   * than LOCAL_EDIT. Remove it again when the binding goes (what it wrote
   * stays undoable).
   */
  trackOrigin(origin: object): void {
    this.#origins.add(origin)
    for (const manager of this.#managers) manager.addTrackedOrigin(origin)
  }

  untrackOrigin(origin: object): void {
    this.#origins.delete(origin)
    for (const manager of this.#managers) manager.removeTrackedOrigin(origin)
  }

  /** Runs `change` (edits of one or more of this page's documents) as one undo step. */
  together(change: () => void): void {
    this.stopCapturing()
    const previous = group
    group = ++clock
    try {
      change()
    } finally {
      group = previous
      this.stopCapturing()
    }
  }

  undo(): boolean {
    return this.#pop('undoStack')
  }

  redo(): boolean {
    return this.#pop('redoStack')
  }

  /** Undoes (or redoes) the newest step among this page's documents: every document's item with that stamp. */
  #pop(stack: Stack): boolean {
    let newest: number | null = null
    for (const manager of this.#managers) {
      const at = topStamp(manager, stack)
      if (at !== null && (newest === null || at > newest)) newest = at
    }
    if (newest === null) return false
    let done = false
    this.together(() => {
      for (const manager of this.#managers) {
        if (topStamp(manager, stack) !== newest) continue
        done = (stack === 'undoStack' ? manager.undo() : manager.redo()) !== null || done
      }
    })
    return done
  }

  /** Ends the current capture group, so the next edit is undone on its own. */
  stopCapturing(): void {
    for (const manager of this.#managers) manager.stopCapturing()
  }

  /** Ctrl/Cmd+Z undoes, Ctrl/Cmd+Shift+Z and Ctrl+Y redo. Returns true if handled. */
  handleKey(event: KeyboardEvent): boolean {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return false
    const key = event.key.toLowerCase()
    if (key === 'z' && !event.shiftKey) {
      event.preventDefault()
      this.undo()
      return true
    }
    if ((key === 'z' && event.shiftKey) || (key === 'y' && !event.shiftKey)) {
      event.preventDefault()
      this.redo()
      return true
    }
    return false
  }

  /** The page is gone: its origins and listeners go; the documents' histories stay for the next page. */
  destroy(): void {
    for (const origin of this.#origins) for (const manager of this.#managers) manager.removeTrackedOrigin(origin)
    this.#origins.clear()
    if (this.#update) for (const manager of this.#managers) for (const event of STACK_EVENTS) manager.off(event, this.#update)
    this.#managers.clear()
  }
}
