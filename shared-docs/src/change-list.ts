// The change list between two versions of a space (or a version and the
// drafts), per entity, computed from the JSON projections only: whatever the
// Yjs layout, two spaces that project alike have no changes between them.
// Each entity kind has a small table of field → change kind; the fields are
// compared as JSON values, so a new field is one table row, not a new branch.
import { diffWordsWithSpace } from 'diff'
import { sortScenarios } from './projection.ts'
import { stepTitle } from './step-titles.ts'
import { SETTINGS_TEXT_KEYS } from './settings.ts'
import type { ButtonJson, ScenarioIndexEntry, ScenarioJson, SettingsJson, SpaceJson, StepJson } from './types.ts'
import type { ChangeKind, SpaceChange, WordDiffPart } from './versions.ts'

// ---- word diff -------------------------------------------------------------

/**
 * Word-level diff keeping every character: `same` + `removed` parts rebuild
 * `a`, `same` + `added` parts rebuild `b`. Whitespace runs are tokens of
 * their own, and adjacent parts of the same op are merged.
 */
export function wordDiff(a: string, b: string): WordDiffPart[] {
  const parts: WordDiffPart[] = []
  for (const change of diffWordsWithSpace(a, b)) {
    if (change.value === '') continue
    const op: WordDiffPart['op'] = change.added ? 'added' : change.removed ? 'removed' : 'same'
    const last = parts[parts.length - 1]
    if (last?.op === op) last.text += change.value
    else parts.push({ op, text: change.value })
  }
  return parts
}

// ---- JSON equality -------------------------------------------------------

/** Deep equality of plain JSON values (objects compared by key, not key order). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as unknown[]
    return a.length === bb.length && a.every((item, i) => jsonEqual(item, bb[i]))
  }
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  const keys = Object.keys(ao).filter((k) => ao[k] !== undefined)
  if (keys.length !== Object.keys(bo).filter((k) => bo[k] !== undefined).length) return false
  return keys.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]))
}

// ---- names in summaries ----------------------------------------------------

const LABEL_WORDS = 3
const LABEL_CHARS = 24

/** The first few words of a text, with "…" when cut; '' for a blank text. */
export function firstWords(text: string): string {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '')
  if (words.length === 0) return ''
  let label = words.slice(0, LABEL_WORDS).join(' ')
  let cut = words.length > LABEL_WORDS
  if ([...label].length > LABEL_CHARS) {
    label = [...label].slice(0, LABEL_CHARS).join('').trimEnd()
    cut = true
  }
  return cut ? `${label}…` : label
}

const quoted = (name: string) => `"${name}"`
const scenarioName = (entry: ScenarioIndexEntry | undefined, id: string) => quoted(entry?.title.trim() || id)
// Named as everywhere else (step-titles.ts): its title, else its first words.
const stepName = (step: StepJson | undefined, id: string) => quoted(step ? stepTitle(step) : id)
const buttonName = (button: ButtonJson | undefined, id: string) => quoted(button?.text.trim() || id)

const TEXT_NAMES: Record<string, string> = {
  welcome: 'Welcome text',
  fallback: 'Fallback text',
  maintenance: 'Maintenance text',
  inputInvalid: 'Invalid-input text',
}
const textName = (key: string) => TEXT_NAMES[key] ?? `Text "${key}"`

// ---- the generic part ------------------------------------------------------

/** One compared field of an entity: the change kind it makes (maybe depending on the new value), and whether it is a text to word-diff. */
interface FieldRule<T> {
  field: keyof T & string
  kind: ChangeKind | ((after: T) => ChangeKind)
  text?: boolean
}

/**
 * The changes of one entity present on both sides, one per change kind. A
 * kind with one field carries that field's values as before/after and its
 * name as `key`; a kind made by several fields (scenario-changed,
 * button-changed) carries objects of just the changed fields and their names
 * joined by ','. `diff` is the word diff of a changed text field.
 */
function fieldChanges<T extends object>(
  rules: readonly FieldRule<T>[],
  before: T,
  after: T,
  base: Omit<SpaceChange, 'kind' | 'summary'>,
  summary: (kind: ChangeKind, fields: string[]) => string,
): SpaceChange[] {
  const groups = new Map<ChangeKind, FieldRule<T>[]>()
  const perKind = new Map<ChangeKind, number>()
  for (const rule of rules) {
    if (typeof rule.kind === 'string') perKind.set(rule.kind, (perKind.get(rule.kind) ?? 0) + 1)
    const a = before[rule.field]
    const b = after[rule.field]
    if (jsonEqual(a, b)) continue
    const kind = typeof rule.kind === 'function' ? rule.kind(after) : rule.kind
    const group = groups.get(kind) ?? []
    group.push(rule)
    groups.set(kind, group)
  }
  const changes: SpaceChange[] = []
  for (const [kind, group] of groups) {
    const fields = group.map((r) => r.field)
    const single = (perKind.get(kind) ?? 1) === 1
    const pick = (value: T) => (single ? value[group[0].field] : Object.fromEntries(group.map((r) => [r.field, value[r.field]])))
    const change: SpaceChange = { kind, ...base, key: fields.join(','), summary: summary(kind, fields), before: pick(before), after: pick(after) }
    const text = group.find((r) => r.text)
    if (text) change.diff = wordDiff(String(before[text.field] ?? ''), String(after[text.field] ?? ''))
    changes.push(change)
  }
  return changes
}

/** Ids of both sides: `after`'s in its order, then those only in `before`, in its order. */
function unionIds(before: readonly string[], after: readonly string[]): string[] {
  const inAfter = new Set(after)
  return [...after, ...before.filter((id) => !inAfter.has(id))]
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

// ---- settings --------------------------------------------------------------

function settingsChanges(before: SettingsJson, after: SettingsJson): SpaceChange[] {
  const changes: SpaceChange[] = []
  const document = 'settings'
  const standard: readonly string[] = SETTINGS_TEXT_KEYS
  const textKeys = unionIds(Object.keys(before.texts), Object.keys(after.texts)).sort(
    (a, b) => (standard.includes(a) ? standard.indexOf(a) : standard.length) - (standard.includes(b) ? standard.indexOf(b) : standard.length) || byId(a, b),
  )
  for (const key of textKeys) {
    const a = before.texts[key]
    const b = after.texts[key]
    if (a === b) {
      if (a !== undefined && !jsonEqual(before.textEntities?.[key] ?? [], after.textEntities?.[key] ?? [])) {
        changes.push({ ...formattingChange({ document, key }, `Formatting of ${textName(key).replace(/^./, (c) => c.toLowerCase())} changed`, a), kind: 'settings-text-changed' })
      }
      continue
    }
    const verb = a === undefined ? 'added' : b === undefined ? 'removed' : 'changed'
    changes.push({ kind: 'settings-text-changed', document, key, summary: `${textName(key)} ${verb}`, before: a, after: b, diff: wordDiff(a ?? '', b ?? '') })
  }
  for (const name of unionIds(Object.keys(before.flags), Object.keys(after.flags)).sort(byId)) {
    const a = before.flags[name]
    const b = after.flags[name]
    if (a === b) continue
    const state = b === undefined ? 'removed' : b ? 'turned on' : 'turned off'
    changes.push({ kind: 'settings-changed', document, key: `flags.${name}`, summary: `Setting "${name}" ${state}`, before: a, after: b })
  }
  const fields: [key: 'mainMenu' | 'publicTexts', summary: string][] = [
    ['mainMenu', 'Main menu changed'],
    ['publicTexts', 'Texts public to Mini App readers changed'],
  ]
  for (const [key, summary] of fields) {
    if (!jsonEqual(before[key], after[key])) changes.push({ kind: 'settings-changed', document, key, summary, before: before[key], after: after[key] })
  }
  return changes
}

/**
 * A text whose words stayed and whose formatting changed: the kind a text
 * change has, with the text as before and after (so readers of the change
 * list see the shapes they know) and a diff of one `same` part.
 */
function formattingChange(base: Omit<SpaceChange, 'kind' | 'summary'>, summary: string, text: string): SpaceChange {
  return { kind: 'message-changed', ...base, key: base.key ?? 'entities', summary, before: text, after: text, diff: wordDiff(text, text) }
}

// ---- buttons ---------------------------------------------------------------

const BUTTON_RULES: readonly FieldRule<ButtonJson>[] = [
  { field: 'text', kind: 'button-changed', text: true },
  { field: 'action', kind: 'button-changed' },
]

function buttonChanges(before: SpaceJson['buttons'], after: SpaceJson['buttons']): SpaceChange[] {
  const changes: SpaceChange[] = []
  const document = 'buttons'
  for (const id of unionIds(Object.keys(before), Object.keys(after)).sort(byId)) {
    const a = before[id]
    const b = after[id]
    if (!a) changes.push({ kind: 'button-added', document, buttonId: id, summary: `Button ${buttonName(b, id)} added`, after: b })
    else if (!b) changes.push({ kind: 'button-removed', document, buttonId: id, summary: `Button ${buttonName(a, id)} removed`, before: a })
    else {
      changes.push(
        ...fieldChanges(BUTTON_RULES, a, b, { document, buttonId: id }, (_kind, fields) =>
          fields.length === 1 && fields[0] === 'text'
            ? `Label of button ${buttonName(a, id)} changed to ${buttonName(b, id)}`
            : `${fields.includes('text') ? 'Label and action' : 'Action'} of button ${buttonName(b, id)} changed`,
        ),
      )
    }
  }
  return changes
}

// ---- scenarios -------------------------------------------------------------

const SCENARIO_RULES: readonly FieldRule<ScenarioIndexEntry>[] = [
  { field: 'title', kind: 'scenario-renamed', text: true },
  { field: 'enabled', kind: (after) => (after.enabled ? 'scenario-enabled' : 'scenario-disabled') },
  { field: 'trigger', kind: 'scenario-changed' },
  { field: 'public', kind: 'scenario-changed' },
  { field: 'order', kind: 'scenario-changed' },
]

const FIELD_NAMES: Record<string, string> = { trigger: 'trigger', public: 'visibility to Mini App readers', order: 'position' }

const STEP_RULES: readonly FieldRule<StepJson>[] = [
  { field: 'message', kind: 'message-changed', text: true },
  { field: 'keyboard', kind: 'keyboard-changed' },
  { field: 'input', kind: 'input-changed' },
  { field: 'next', kind: 'next-changed' },
]

const STEP_NOUNS: Partial<Record<ChangeKind, string>> = {
  'message-changed': 'Message',
  'keyboard-changed': 'Keyboard',
  'input-changed': 'Input',
  'next-changed': 'Next step',
}

const EMPTY_SCENARIO: ScenarioJson = { entryStepId: '', steps: {}, stepOrder: [] }

function stepChanges(scenarioId: string, title: string, before: ScenarioJson, after: ScenarioJson): SpaceChange[] {
  const changes: SpaceChange[] = []
  const document = `scenario/${scenarioId}`
  const base = { document, scenarioId }
  const step = (id: string) => after.steps[id] ?? before.steps[id]
  if (before.entryStepId !== after.entryStepId) {
    const name = after.entryStepId === '' ? 'none' : `step ${stepName(step(after.entryStepId), after.entryStepId)}`
    changes.push({ kind: 'entry-step-changed', ...base, summary: `First step of ${title} is now ${name}`, before: before.entryStepId, after: after.entryStepId })
  }
  const common = (order: string[], other: ScenarioJson) => order.filter((id) => Object.hasOwn(other.steps, id))
  if (!jsonEqual(common(before.stepOrder, after), common(after.stepOrder, before))) {
    changes.push({ kind: 'steps-reordered', ...base, summary: `Steps of ${title} reordered`, before: before.stepOrder, after: after.stepOrder })
  }
  for (const id of unionIds(before.stepOrder, after.stepOrder)) {
    const a = before.steps[id]
    const b = after.steps[id]
    const stepBase = { ...base, stepId: id }
    if (!a) changes.push({ kind: 'step-added', ...stepBase, summary: `Step ${stepName(b, id)} added to ${title}`, after: b })
    else if (!b) changes.push({ kind: 'step-removed', ...stepBase, summary: `Step ${stepName(a, id)} removed from ${title}`, before: a })
    else {
      if ((a.title ?? '') !== (b.title ?? '')) {
        changes.push({
          kind: 'step-renamed',
          ...stepBase,
          summary: `Step ${stepName(a, id)} in ${title} renamed to ${stepName(b, id)}`,
          before: a.title ?? null,
          after: b.title ?? null,
        })
      }
      changes.push(...fieldChanges(STEP_RULES, a, b, stepBase, (kind) => `${STEP_NOUNS[kind] ?? 'Something'} of step ${stepName(b, id)} in ${title} changed`))
      if (a.message === b.message && !jsonEqual(a.entities ?? [], b.entities ?? []))
        changes.push(formattingChange(stepBase, `Formatting of step ${stepName(b, id)} in ${title} changed`, a.message))
    }
  }
  return changes
}

function scenarioChanges(before: SpaceJson, after: SpaceJson): SpaceChange[] {
  const changes: SpaceChange[] = []
  const ids = unionIds(
    sortScenarios(before.scenarios).map((s) => s.id),
    sortScenarios(after.scenarios).map((s) => s.id),
  )
  for (const id of ids) {
    const a = before.scenarios[id]
    const b = after.scenarios[id]
    const base = { document: 'scenarios', scenarioId: id }
    if (!a) {
      changes.push({ kind: 'scenario-added', ...base, summary: `Scenario ${scenarioName(b, id)} added`, after: b })
      continue
    }
    if (!b) {
      changes.push({ kind: 'scenario-removed', ...base, summary: `Scenario ${scenarioName(a, id)} removed`, before: a })
      continue
    }
    const title = scenarioName(b, id)
    changes.push(
      ...fieldChanges(SCENARIO_RULES, a, b, base, (kind, fields) => {
        if (kind === 'scenario-renamed') return `Scenario ${scenarioName(a, id)} renamed to ${title}`
        if (kind === 'scenario-enabled') return `Scenario ${title} enabled`
        if (kind === 'scenario-disabled') return `Scenario ${title} disabled`
        const names = fields.map((f) => FIELD_NAMES[f] ?? f)
        return `${names.join(' and ').replace(/^./, (c) => c.toUpperCase())} of scenario ${title} changed`
      }),
    )
    changes.push(...stepChanges(id, title, before.scenarioDocs[id] ?? EMPTY_SCENARIO, after.scenarioDocs[id] ?? EMPTY_SCENARIO))
  }
  return changes
}

// ---- the list ----------------------------------------------------------------

/**
 * What changed from `before` to `after`, per entity, in a fixed order:
 * settings (texts, flags, main menu, public texts), buttons by id, then
 * scenarios in `after`'s index order (removed ones last, in `before`'s),
 * each with its index changes, entry step, step order and steps in step
 * order. A scenario added or removed is one change, not one per step; only
 * scenarios listed in the index are compared.
 */
export function diffSpaces(before: SpaceJson, after: SpaceJson): SpaceChange[] {
  return [...settingsChanges(before.settings, after.settings), ...buttonChanges(before.buttons, after.buttons), ...scenarioChanges(before, after)]
}

/** How many changes diffSpaces finds: the header's "N unpublished changes". */
export function countChanges(before: SpaceJson, after: SpaceJson): number {
  return diffSpaces(before, after).length
}
