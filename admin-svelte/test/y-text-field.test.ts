import { fireEvent, render } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import YTextField from '../src/lib/yjs/y-text-field.svelte'
import { replaceText } from '@botsync/shared-docs'

function setup(initial: string) {
  const doc = new Y.Doc()
  const text = doc.getText('message')
  text.insert(0, initial)
  const remote = new Y.Doc()
  Y.applyUpdate(remote, Y.encodeStateAsUpdate(doc))
  const sendRemote = (change: (text: Y.Text) => void) => {
    const before = Y.encodeStateVector(remote)
    change(remote.getText('message'))
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote, before), 'provider')
  }
  const view = render(YTextField, { text, write: (value: string) => replaceText(text, value), 'aria-label': 'Message' })
  const field = view.getByLabelText('Message') as HTMLTextAreaElement
  return { doc, text, field, sendRemote, view }
}

describe('YTextField', () => {
  it('shows the Y.Text and writes typing back as a minimal edit', async () => {
    const { text, field } = setup('Hello world')
    expect(field.value).toBe('Hello world')
    const deltas: unknown[] = []
    text.observe((event) => deltas.push(event.delta))
    field.value = 'Hello brave world'
    await fireEvent.input(field)
    expect(text.toString()).toBe('Hello brave world')
    expect(deltas).toEqual([[{ retain: 6 }, { insert: 'brave ' }]])
  })

  it('applies another admin’s edit and keeps the caret on the same word', async () => {
    const { field, sendRemote } = setup('Hello world')
    field.focus()
    field.setSelectionRange(6, 6) // before "world"
    sendRemote((text) => text.insert(0, 'Oh, '))
    expect(field.value).toBe('Oh, Hello world')
    expect([field.selectionStart, field.selectionEnd]).toEqual([10, 10])
    // An edit after the caret does not move it.
    sendRemote((text) => text.insert(text.length, '!'))
    expect(field.value).toBe('Oh, Hello world!')
    expect(field.selectionStart).toBe(10)
  })

  it('can be disabled (viewers)', () => {
    const doc = new Y.Doc()
    const view = render(YTextField, { text: doc.getText('t'), write: () => {}, disabled: true, 'aria-label': 'Message' })
    expect((view.getByLabelText('Message') as HTMLTextAreaElement).disabled).toBe(true)
  })
})
