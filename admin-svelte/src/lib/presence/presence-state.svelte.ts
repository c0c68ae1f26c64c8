// Who else has a document open, and which item each of them is editing,
// from the document's Yjs awareness. Own state: `user` (set by the
// DocumentHandle) and `focus` (set here when an item gets keyboard focus).
import { createSubscriber } from 'svelte/reactivity'
import type { Awareness } from 'y-protocols/awareness'

export interface PresenceUser {
  id: string
  name: string
  color: string
}

export interface PresenceFocus {
  /** Stable id of the item (a step id, a button id, a settings key…). */
  item: string
  /** How to name it to others, e.g. "step 2". */
  label: string
}

export interface Peer {
  clientId: number
  user: PresenceUser
  focus: PresenceFocus | null
}

function asUser(value: unknown): PresenceUser | null {
  if (typeof value !== 'object' || value === null) return null
  const v = value as Record<string, unknown>
  if (typeof v.id !== 'string' || typeof v.name !== 'string') return null
  return { id: v.id, name: v.name, color: typeof v.color === 'string' ? v.color : '#555' }
}

function asFocus(value: unknown): PresenceFocus | null {
  if (typeof value !== 'object' || value === null) return null
  const v = value as Record<string, unknown>
  return typeof v.item === 'string' ? { item: v.item, label: typeof v.label === 'string' ? v.label : v.item } : null
}

export class PresenceState {
  readonly #awareness: Awareness
  readonly #subscribe: () => void

  constructor(awareness: Awareness) {
    this.#awareness = awareness
    this.#subscribe = createSubscriber((update) => {
      // 'change' fires when a state is added, removed or changed; not on the
      // periodic keep-alive renewals ('update').
      awareness.on('change', update)
      return () => awareness.off('change', update)
    })
  }

  /** The document's awareness, for editors that draw other admins' carets from it. */
  get awareness(): Awareness {
    return this.#awareness
  }

  /** Other clients with this document open (self excluded), ordered by name. */
  get peers(): Peer[] {
    this.#subscribe()
    const self = this.#awareness.clientID
    const peers: Peer[] = []
    this.#awareness.getStates().forEach((state, clientId) => {
      if (clientId === self) return
      const user = asUser(state.user)
      if (user) peers.push({ clientId, user, focus: asFocus(state.focus) })
    })
    return peers.sort((a, b) => a.user.name.localeCompare(b.user.name) || a.clientId - b.clientId)
  }

  /** Other users (one entry per user, even with several tabs open). */
  get users(): PresenceUser[] {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup, gone when the getter returns
    const seen = new Map<string, PresenceUser>()
    for (const peer of this.peers) if (!seen.has(peer.user.id)) seen.set(peer.user.id, peer.user)
    return [...seen.values()]
  }

  /** Peers whose focus is on `item`. */
  editorsOf(item: string): Peer[] {
    return this.peers.filter((peer) => peer.focus?.item === item)
  }

  /** This user, as the document's awareness announces them (null in a document opened without one). */
  get me(): PresenceUser | null {
    return asUser(this.#awareness.getLocalState()?.user)
  }

  get focus(): PresenceFocus | null {
    this.#subscribe()
    return asFocus(this.#awareness.getLocalState()?.focus)
  }

  setFocus(focus: PresenceFocus): void {
    const current = asFocus(this.#awareness.getLocalState()?.focus)
    if (current?.item === focus.item && current.label === focus.label) return
    this.#awareness.setLocalStateField('focus', focus)
  }

  /**
   * Clears the focus if it is still on `item` (or unconditionally without one).
   * Deferred to a microtask: it is called while components are torn down,
   * where notifying Svelte of a change is not allowed; by then a focus that
   * moved on to another item is left alone.
   */
  clearFocus(item?: string): void {
    queueMicrotask(() => {
      const current = asFocus(this.#awareness.getLocalState()?.focus)
      if (current === null || (item !== undefined && current.item !== item)) return
      this.#awareness.setLocalStateField('focus', null)
    })
  }
}
