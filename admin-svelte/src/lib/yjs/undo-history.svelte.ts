// Per-user undo/redo across the documents one page edits (a scenario's
// content and its index entry, say). y-utility's YMultiDocUndoManager keeps
// one Y.UndoManager per document and a single ordered stack across them.
import { createSubscriber } from 'svelte/reactivity'
import { YMultiDocUndoManager } from 'y-utility/y-multidoc-undomanager'
import type { AnyYType } from '@botsync/shared-docs'
import { LOCAL_EDIT } from './edit-origin.ts'

/** The manager's events after which canUndo or canRedo may have changed. */
const STACK_EVENTS = ['stack-item-added', 'stack-item-popped', 'stack-cleared', 'stack-item-updated']

export class UndoHistory {
  readonly #manager: YMultiDocUndoManager
  readonly #subscribe: () => void

  constructor(scope: AnyYType[] = []) {
    // Only LOCAL_EDIT transactions are captured: remote edits (origin: the
    // provider) and IndexedDB restores are never undone by this user.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- Yjs' own option, never rendered
    this.#manager = new YMultiDocUndoManager(scope, { trackedOrigins: new Set([LOCAL_EDIT]), captureTimeout: 600 })
    // Listens to the manager only while an effect reads canUndo or canRedo.
    this.#subscribe = createSubscriber((update) => {
      for (const event of STACK_EVENTS) this.#manager.on(event, update)
      return () => {
        for (const event of STACK_EVENTS) this.#manager.off(event, update)
      }
    })
  }

  get canUndo(): boolean {
    this.#subscribe()
    return this.#manager.canUndo()
  }

  get canRedo(): boolean {
    this.#subscribe()
    return this.#manager.canRedo()
  }

  track(type: AnyYType): void {
    this.#manager.addToScope([type])
  }

  /**
   * Also undoes transactions with this origin: an editor binding that writes
   * this user's typing under its own origin (y-quill's QuillBinding) rather
   * than LOCAL_EDIT. Remove it again when the binding goes.
   */
  trackOrigin(origin: object): void {
    this.#manager.addTrackedOrigin(origin)
  }

  untrackOrigin(origin: object): void {
    this.#manager.removeTrackedOrigin(origin)
  }

  undo(): boolean {
    return this.#manager.undo() !== null
  }

  redo(): boolean {
    return this.#manager.redo() !== null
  }

  /** Ends the current capture group, so the next edit is undone on its own. */
  stopCapturing(): void {
    this.#manager.stopCapturing()
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

  destroy(): void {
    this.#manager.destroy()
  }
}
