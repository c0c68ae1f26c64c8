import { flushSync } from 'svelte'
import { describe, expect, it } from 'vitest'
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { PresenceState } from '../src/lib/presence/presence-state.svelte.ts'

/** Two awareness instances that exchange updates, like two admins on one document. */
function pair(): [Awareness, Awareness] {
  const a = new Awareness(new Y.Doc())
  const b = new Awareness(new Y.Doc())
  const forward = (from: Awareness, to: Awareness) =>
    from.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin === 'remote') return
      applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [...added, ...updated, ...removed]), 'remote')
    })
  forward(a, b)
  forward(b, a)
  return [a, b]
}

describe('PresenceState', () => {
  it('lists the other users and who is on which item, reactively', async () => {
    const [anaAwareness, benAwareness] = pair()
    anaAwareness.setLocalStateField('user', { id: 'u1', name: 'Ana', color: '#111' })
    benAwareness.setLocalStateField('user', { id: 'u2', name: 'Ben', color: '#222' })
    const ana = new PresenceState(anaAwareness)
    const ben = new PresenceState(benAwareness)

    const seen: string[] = []
    const stop = $effect.root(() => {
      $effect(() => {
        seen.push(
          ana
            .editorsOf('step-2')
            .map((peer) => `${peer.user.name} on ${peer.focus?.label}`)
            .join(','),
        )
      })
    })
    flushSync()
    expect(ana.users.map((user) => user.name)).toEqual(['Ben'])
    expect(ben.users.map((user) => user.name)).toEqual(['Ana'])

    ben.setFocus({ item: 'step-2', label: 'step 2' })
    flushSync()
    expect(seen.at(-1)).toBe('Ben on step 2')
    expect(ana.focus).toBeNull()
    expect(ben.focus).toEqual({ item: 'step-2', label: 'step 2' })

    // Clearing the focus of another item does nothing; of this item, clears it.
    ben.clearFocus('step-3')
    await Promise.resolve()
    expect(ana.editorsOf('step-2')).toHaveLength(1)
    ben.clearFocus('step-2')
    await Promise.resolve()
    flushSync()
    expect(seen.at(-1)).toBe('')
    stop()
  })

  it('shows a user with two tabs once, and ignores states without a user', () => {
    const a = new Awareness(new Y.Doc())
    const b = new Awareness(new Y.Doc())
    const c = new Awareness(new Y.Doc())
    b.setLocalStateField('user', { id: 'u2', name: 'Ben', color: '#222' })
    c.setLocalStateField('user', { id: 'u2', name: 'Ben', color: '#222' })
    applyAwarenessUpdate(a, encodeAwarenessUpdate(b, [b.clientID]), 'remote')
    applyAwarenessUpdate(a, encodeAwarenessUpdate(c, [c.clientID]), 'remote')
    const presence = new PresenceState(a)
    expect(presence.peers).toHaveLength(2)
    expect(presence.users).toEqual([{ id: 'u2', name: 'Ben', color: '#222' }])
  })
})
