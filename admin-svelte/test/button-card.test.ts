import { getButtonAction, getKeyboardRows, projectSettings } from '@botsync/shared-docs'
import { fireEvent, render } from '@testing-library/svelte'
import { describe, expect, it } from 'vitest'
import ButtonCard from '../src/lib/buttons/button-card.svelte'
import { ButtonsState } from '../src/lib/buttons/buttons-state.svelte.ts'
import { LocalSource } from './local-source.ts'

function setup(url: string) {
  const source = LocalSource.seeded('demo')
  const page = new ButtonsState(source, 'demo')
  page.create({ id: 'app', text: 'Open', type: 'web_app' })
  page.setAction('app', { type: 'web_app', url })
  const button = () => page.buttons.find((b) => b.id === 'app')!
  const view = render(ButtonCard, { page, button: button() })
  const field = view.getByLabelText('Mini App URL') as HTMLInputElement
  /** Re-renders with the button as the page now sees it (the page list does this for real). */
  const refresh = () => view.rerender({ page, button: button() })
  return { source, page, view, field, refresh }
}

describe('ButtonCard, Mini App buttons', () => {
  it('takes a page of the bot’s own Mini App, explains it, and shows no problem', async () => {
    const { source, view, field, refresh } = setup('https://')
    expect(field.placeholder).toBe('https://… or /miniapp')
    // A text field: as type="url" the browser itself would call "/miniapp" invalid.
    expect(field.type).toBe('text')
    const hint = view.container.querySelector(`#${field.getAttribute('aria-describedby')!.split(' ')[0]}`)
    expect(hint?.textContent).toContain('/miniapp#faq')
    expect(hint?.textContent).toContain('MINIAPP_URL')

    field.value = '/miniapp#faq'
    await fireEvent.input(field)
    await refresh()
    expect(getButtonAction(source.document('demo/buttons').doc, 'app')).toEqual({ type: 'web_app', url: '/miniapp#faq' })
    expect(view.queryByTestId('field-problems')).toBeNull()
    expect(field.getAttribute('aria-invalid')).toBe('false')
  })

  it('shows why a URL naming another host without https:// is refused', async () => {
    const { view, field, refresh } = setup('/miniapp')
    field.value = '//evil.example.com/miniapp'
    await fireEvent.input(field)
    await refresh()
    const problems = view.getByTestId('field-problems')
    expect(problems.querySelector('li')?.dataset.code).toBe('web-app-url-protocol-relative')
    expect(field.getAttribute('aria-invalid')).toBe('true')
    expect(field.getAttribute('aria-describedby')).toContain(problems.id)
  })
})

describe('ButtonsState, the library of buttons', () => {
  it('picks nothing for the author: a button needs its action, and a goto its scenario', () => {
    const source = LocalSource.seeded('demo')
    const page = new ButtonsState(source, 'demo')
    expect(page.create({ text: 'Order status', type: '' })).toEqual({ error: 'Choose what the button does when pressed.' })
    expect(page.create({ text: 'Order status', type: 'goto' })).toEqual({ error: 'Choose the scenario the button goes to.' })
    const created = page.create({ text: 'Order status', type: 'goto', scenarioId: 'support' })
    expect('id' in created && getButtonAction(source.document('demo/buttons').doc, created.id)).toEqual({ type: 'goto', scenarioId: 'support' })
    page.destroy()
  })

  it('deletes a button into the trash with another one in its place in every keyboard and the main menu, as one undo step', () => {
    const source = LocalSource.seeded('demo')
    const page = new ButtonsState(source, 'demo')
    page.syncTargets(['onboarding', 'support'])
    expect(page.usedIn('support')).toEqual([{ kind: 'keyboard', scenarioId: 'onboarding', stepId: 'finish' }, { kind: 'main-menu' }])

    page.remove('support', 'back')
    expect(getKeyboardRows(source.document('demo/scenario/onboarding').doc, 'finish')).toEqual([['back', 'website']])
    expect(projectSettings(source.document('demo/settings').doc).mainMenu).toEqual([['start'], ['back', 'website']])
    expect(page.buttons.some((button) => button.id === 'support')).toBe(false)
    expect(page.trash.map((item) => item.id)).toEqual(['support'])

    expect(page.undo.undo()).toBe(true)
    expect(getKeyboardRows(source.document('demo/scenario/onboarding').doc, 'finish')).toEqual([['support', 'website']])
    expect(projectSettings(source.document('demo/settings').doc).mainMenu).toEqual([['start'], ['support', 'website']])
    expect(page.trash).toEqual([])

    page.remove('support')
    expect(page.restore('support')).toBe('support')
    // Restored into the library, not back into the keyboards it was removed from.
    expect(page.usedIn('support')).toEqual([])
    page.destroy()
  })
})
