// Who points to what in a space: the keyboards and the main menu that show a
// button, the buttons and steps that lead to a step, the buttons that lead to
// a scenario. The admin's "Used in" links and its safe deletes read these,
// and change them through the writers below (retarget or remove), so a
// delete never leaves a link to nothing behind.
//
// The readers take the parts of a SpaceJson they need, so a page that has
// only some documents open (the scenario editor: its own content and the
// buttons) can still ask about what those documents hold.
import * as Y from 'yjs'
import { buttonsRoot, parseButtonAction } from './buttons.ts'
import { getMainMenuArray } from './settings.ts'
import { getSteps, getEntryStepId, getStepKeyboard, getStepOrder, scenarioRoot } from './scenario.ts'
import type { ButtonAction, SettingsJson, SpaceJson } from './types.ts'
import { asArray, asMap } from './ytypes.ts'

/** One thing that points to a button, a step or a scenario. */
export type Reference =
  /** A step's keyboard shows the button (once per step, however often it lists it). */
  | { kind: 'keyboard'; scenarioId: string; stepId: string }
  /** The main menu shows the button. */
  | { kind: 'main-menu' }
  /** A button goes to the step or scenario. */
  | { kind: 'button'; buttonId: string }
  /** A step continues with the step (its `next`). */
  | { kind: 'next'; scenarioId: string; stepId: string }
  /** The step is its scenario's entry step. */
  | { kind: 'entry'; scenarioId: string }

export type ReferenceKind = Reference['kind']

/** Where a button is shown: the steps whose keyboards list it (in scenario and step order), then the main menu. */
export function buttonReferences(space: { settings?: Pick<SettingsJson, 'mainMenu'>; scenarioDocs: SpaceJson['scenarioDocs'] }, buttonId: string): Reference[] {
  const references: Reference[] = []
  for (const scenarioId of Object.keys(space.scenarioDocs).sort()) {
    const scenario = space.scenarioDocs[scenarioId]
    for (const stepId of scenario.stepOrder) {
      const step = scenario.steps[stepId]
      if (step?.keyboard.rows.some((row) => row.includes(buttonId))) references.push({ kind: 'keyboard', scenarioId, stepId })
    }
  }
  if (space.settings?.mainMenu.some((row) => row.includes(buttonId))) references.push({ kind: 'main-menu' })
  return references
}

/** Whether a goto action leads to the step (named by its id) of the scenario. */
function goesToStep(action: ButtonAction | null, scenarioId: string, stepId: string): boolean {
  return action?.type === 'goto' && action.scenarioId === scenarioId && action.stepId === stepId
}

/**
 * What leads to a step: the buttons that go to it by name, the steps of its
 * scenario that continue with it, and its scenario's entry (when it is the
 * entry step; buttons that go to the scenario without naming a step reach it
 * through that).
 */
export function stepReferences(space: Pick<SpaceJson, 'buttons' | 'scenarioDocs'>, scenarioId: string, stepId: string): Reference[] {
  const references: Reference[] = []
  for (const id of Object.keys(space.buttons).sort()) {
    if (goesToStep(space.buttons[id].action, scenarioId, stepId)) references.push({ kind: 'button', buttonId: id })
  }
  const scenario = space.scenarioDocs[scenarioId]
  if (scenario) {
    for (const id of scenario.stepOrder) {
      if (id !== stepId && scenario.steps[id]?.next === stepId) references.push({ kind: 'next', scenarioId, stepId: id })
    }
    if (scenario.entryStepId === stepId) references.push({ kind: 'entry', scenarioId })
  }
  return references
}

/** The buttons that go to a scenario (to its start or to one of its steps). */
export function scenarioReferences(space: Pick<SpaceJson, 'buttons'>, scenarioId: string): Reference[] {
  return Object.keys(space.buttons)
    .sort()
    .filter((id) => {
      const action = space.buttons[id].action
      return action?.type === 'goto' && action.scenarioId === scenarioId
    })
    .map((buttonId) => ({ kind: 'button', buttonId }))
}

/** How many buttons and how many steps a list of references names (the main menu and the entry are counted apart). */
export function countReferences(references: readonly Reference[]): { buttons: number; steps: number; mainMenu: boolean; entry: boolean } {
  return {
    buttons: references.filter((r) => r.kind === 'button').length,
    steps: references.filter((r) => r.kind === 'keyboard' || r.kind === 'next').length,
    mainMenu: references.some((r) => r.kind === 'main-menu'),
    entry: references.some((r) => r.kind === 'entry'),
  }
}

// ——— Writers: each changes one document, inside one transaction. ———

function eachGotoButton(
  doc: Y.Doc,
  matches: (action: ButtonAction & { type: 'goto' }) => boolean,
  change: (map: Y.Map<unknown>, action: ButtonAction & { type: 'goto' }) => void,
): number {
  let changed = 0
  doc.transact(() => {
    buttonsRoot(doc).forEach((map) => {
      if (!(map instanceof Y.Map)) return
      const action = parseButtonAction(map.get('action'))
      if (action?.type !== 'goto' || !matches(action)) return
      change(map, action)
      changed++
    })
  })
  return changed
}

/**
 * Buttons that go to `stepId` of the scenario now go to `toStepId` (a step of
 * the same scenario), or with null to the scenario's start. Returns how many changed.
 */
export function retargetButtonsToStep(doc: Y.Doc, scenarioId: string, stepId: string, toStepId: string | null): number {
  return eachGotoButton(
    doc,
    (action) => action.scenarioId === scenarioId && action.stepId === stepId,
    (map) => map.set('action', toStepId === null ? { type: 'goto', scenarioId } : { type: 'goto', scenarioId, stepId: toStepId }),
  )
}

/** Buttons that go to the scenario (its start or one of its steps) now go to the start of `toScenarioId`. */
export function retargetButtonsToScenario(doc: Y.Doc, scenarioId: string, toScenarioId: string): number {
  return eachGotoButton(
    doc,
    (action) => action.scenarioId === scenarioId,
    (map) => map.set('action', { type: 'goto', scenarioId: toScenarioId }),
  )
}

/** The ids of the buttons that go to the scenario. */
export function buttonsGoingTo(doc: Y.Doc, scenarioId: string): string[] {
  const ids: string[] = []
  buttonsRoot(doc).forEach((map, id) => {
    const action = map instanceof Y.Map ? parseButtonAction(map.get('action')) : null
    if (action?.type === 'goto' && action.scenarioId === scenarioId) ids.push(id)
  })
  return ids.sort()
}

/**
 * In one scenario document: steps that continue with `stepId` continue with
 * `toStepId` instead (null: they end), and if `stepId` is the entry step,
 * `toStepId` becomes it (null: the entry is left for removeStep to move).
 */
export function retargetStepLinks(doc: Y.Doc, stepId: string, toStepId: string | null): number {
  const steps = getSteps(doc)
  if (!steps) return 0
  let changed = 0
  doc.transact(() => {
    for (const id of getStepOrder(doc)) {
      const step = asMap(steps.get(id))
      if (id !== stepId && step?.get('next') === stepId) {
        step.set('next', toStepId)
        changed++
      }
    }
    if (toStepId !== null && getEntryStepId(doc) === stepId && steps.has(toStepId)) {
      scenarioRoot(doc).set('entryStepId', toStepId)
      changed++
    }
  })
  return changed
}

/**
 * Replaces a button in rows of button ids (a keyboard, the main menu) with
 * another one, or with null removes it, dropping rows it leaves empty.
 * Only the cells that hold it change, so a concurrent edit of another cell stays.
 */
function replaceInRows(rows: Y.Array<unknown> | undefined, buttonId: string, to: string | null): boolean {
  if (!rows) return false
  let changed = false
  for (let r = rows.length - 1; r >= 0; r--) {
    const row = asArray(rows.get(r))
    if (!row) continue
    let here = false
    for (let c = row.length - 1; c >= 0; c--) {
      if (row.get(c) !== buttonId) continue
      row.delete(c, 1)
      if (to !== null) row.insert(c, [to])
      here = true
    }
    if (here && row.length === 0) rows.delete(r, 1)
    changed ||= here
  }
  return changed
}

/** Every step keyboard of a scenario document: `buttonId` replaced by `to`, or removed (null). Returns the steps changed. */
export function replaceButtonInKeyboards(doc: Y.Doc, buttonId: string, to: string | null): string[] {
  const changed: string[] = []
  doc.transact(() => {
    for (const stepId of [...(getSteps(doc)?.keys() ?? [])]) {
      if (replaceInRows(asArray(getStepKeyboard(doc, stepId)?.get('rows')), buttonId, to)) changed.push(stepId)
    }
  })
  return changed
}

/** The main menu (settings document): `buttonId` replaced by `to`, or removed (null). */
export function replaceButtonInMainMenu(doc: Y.Doc, buttonId: string, to: string | null): boolean {
  let changed = false
  doc.transact(() => {
    changed = replaceInRows(getMainMenuArray(doc) as Y.Array<unknown> | undefined, buttonId, to)
  })
  return changed
}
