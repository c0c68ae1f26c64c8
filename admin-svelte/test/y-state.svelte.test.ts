import { flushSync } from 'svelte'
import { describe, expect, it } from 'vitest'
import type { AnyYType } from '@botsync/shared-docs'
import * as Y from 'yjs'
import { YState } from '../src/lib/yjs/y-state.svelte.ts'

function listeners(type: AnyYType): number {
  // Yjs keeps deep observers in an EventHandler; its listener list is the only way to count them.
  return (type as unknown as { _dEH: { l: unknown[] } })._dEH.l.length
}

describe('YState (createSubscriber + observeDeep)', () => {
  it('re-runs an effect on changes at any depth, and only while something reads it', () => {
    const doc = new Y.Doc()
    const root = doc.getMap<unknown>('root')
    const state = new YState(root, () => root.toJSON())
    const seen: unknown[] = []

    expect(listeners(root)).toBe(0)
    const stop = $effect.root(() => {
      $effect(() => {
        seen.push(state.current)
      })
    })
    flushSync()
    expect(listeners(root)).toBe(1)
    expect(seen).toEqual([{}])

    const nested = new Y.Map<string>()
    root.set('step', nested)
    flushSync()
    nested.set('message', 'hello')
    flushSync()
    expect(seen).toEqual([{}, { step: {} }, { step: { message: 'hello' } }])

    stop()
    // The observer goes away a microtask after the last reader (Svelte's own timing).
    return Promise.resolve().then(() => {
      expect(listeners(root)).toBe(0)
      nested.set('message', 'bye')
      flushSync()
      expect(seen).toHaveLength(3)
      // Outside any effect, `current` is simply the value now.
      expect(state.current).toEqual({ step: { message: 'bye' } })
    })
  })

  it('feeds $derived values that update with the document', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    const state = new YState(text, () => text.toString())
    let length = 0
    const stop = $effect.root(() => {
      const derived = $derived(state.current.length)
      $effect(() => {
        length = derived
      })
    })
    flushSync()
    text.insert(0, 'abc')
    flushSync()
    expect(length).toBe(3)
    stop()
  })
})
