import { getButtonAction } from '@botsync/shared-docs'
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
