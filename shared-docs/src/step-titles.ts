// What a step is called wherever people see it: pickers, the flow map,
// Activity, validation messages. Its title when the author gave one,
// otherwise the first words of its message, so a step is never known by
// its random id.
import type { ScenarioJson, StepJson } from './types.ts'

/** At most this many words and characters of the message make a default title. */
const DEFAULT_WORDS = 6
const DEFAULT_CHARS = 40

export const UNTITLED_STEP = 'Untitled step'

/** The step's title, or the first words of its first line, or "Untitled step". */
export function stepTitle(step: Pick<StepJson, 'message'> & { title?: string }): string {
  const title = step.title?.trim()
  if (title) return title
  return firstWords(step.message) || UNTITLED_STEP
}

/** Whether `stepTitle` comes from the author (false: from the message). */
export function hasOwnTitle(step: { title?: string }): boolean {
  return Boolean(step.title?.trim())
}

function firstWords(message: string): string {
  const line = message
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '')
  if (!line) return ''
  const words = line.split(/\s+/)
  let result = words.slice(0, DEFAULT_WORDS).join(' ')
  let cut = words.length > DEFAULT_WORDS
  if (result.length > DEFAULT_CHARS) {
    // Cut between code points, never inside an emoji's surrogate pair.
    result = Array.from(result).slice(0, DEFAULT_CHARS).join('').trimEnd()
    cut = true
  }
  return cut ? `${result.replace(/[\s.,;:!?…-]+$/u, '')}…` : result
}

/**
 * Titles for every step of a scenario, made unique: two steps that would
 * read alike get their position ("Thanks! (2)", "Thanks! (5)"), so a picker
 * never offers two identical choices.
 */
export function stepTitles(scenario: Pick<ScenarioJson, 'steps' | 'stepOrder'>): Record<string, string> {
  const titles: Record<string, string> = {}
  const byTitle = new Map<string, string[]>()
  for (const id of scenario.stepOrder) {
    const step = scenario.steps[id]
    if (!step) continue
    const title = stepTitle(step)
    titles[id] = title
    byTitle.set(title, [...(byTitle.get(title) ?? []), id])
  }
  for (const ids of byTitle.values()) {
    if (ids.length < 2) continue
    for (const id of ids) titles[id] = `${titles[id]} (${scenario.stepOrder.indexOf(id) + 1})`
  }
  return titles
}
