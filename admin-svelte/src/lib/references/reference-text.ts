// The sentences a delete dialog opens with: "2 buttons and 1 step go here",
// "Shown in 2 steps and the main menu". Counts come from shared-docs'
// countReferences; the names of each line are the page's to give.
import { countReferences, type Reference } from '@botsync/shared-docs'

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

function joinAnd(parts: string[]): string {
  if (parts.length <= 1) return parts.join('')
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`
}

/** What leads to a step or a scenario: "2 buttons and 1 step go here"; '' when nothing does. */
export function leadsHereSummary(references: readonly Reference[]): string {
  const { buttons, steps } = countReferences(references)
  const parts = [...(buttons > 0 ? [plural(buttons, 'button')] : []), ...(steps > 0 ? [plural(steps, 'step')] : [])]
  if (parts.length === 0) return ''
  return `${joinAnd(parts)} ${buttons + steps === 1 ? 'goes' : 'go'} here`
}

/** Where a button is shown: "Shown in 2 steps and the main menu"; '' when nowhere. */
export function shownInSummary(references: readonly Reference[]): string {
  const { steps, mainMenu } = countReferences(references)
  const parts = [...(steps > 0 ? [plural(steps, 'step')] : []), ...(mainMenu ? ['the main menu'] : [])]
  return parts.length === 0 ? '' : `Shown in ${joinAnd(parts)}`
}
