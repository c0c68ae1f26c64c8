import { getFlowPositions, projectButtons, projectScenario, setButton, setFlowPosition } from '@botsync/shared-docs'
import { describe, expect, it } from 'vitest'
import { buildFlowGraph } from '../src/lib/flow-map/flow-graph.ts'
import { FlowMapState } from '../src/lib/flow-map/flow-map-state.svelte.ts'
import { layoutTree, placeNodes, type Size } from '../src/lib/flow-map/flow-placement.ts'
import { ScenarioEditorState } from '../src/lib/scenarios/scenario-editor-state.svelte.ts'
import { LocalSource } from './local-source.ts'

function demoMap(source = LocalSource.seeded('demo')) {
  const editor = new ScenarioEditorState(source, 'demo', 'onboarding')
  return { source, editor, map: new FlowMapState(editor) }
}

describe('the flow graph', () => {
  it('draws next steps and buttons that go somewhere, and no edge for the rest', () => {
    const source = LocalSource.seeded('demo')
    const buttons = source.document('demo/buttons').doc
    // A goto without a step starts the scenario over: its entry step.
    setButton(buttons, 'ob_later', { text: 'Start over', action: { type: 'goto', scenarioId: 'onboarding' } })
    const { editor } = demoMap(source)
    const graph = buildFlowGraph({ scenarioId: 'onboarding', scenario: editor.scenario, buttons: projectButtons(buttons), scenarios: editor.scenarios })
    expect(graph.steps.map((step) => [step.id, step.title, step.isEntry])).toEqual([
      ['welcome', "Hi! Let's get you set up…", true],
      ['ask_name', 'What should I call you?', false],
      ['finish', 'Nice to meet you, {name}! You…', false],
    ])
    expect(graph.steps[2].rows).toEqual([
      [
        { handle: 'button-0-0', buttonId: 'support', label: 'Support', kind: 'scenario' },
        { handle: 'button-0-1', buttonId: 'website', label: 'Website', kind: 'link' },
      ],
    ])
    expect(graph.edges.map((edge) => [edge.source, edge.sourceHandle, edge.target])).toEqual([
      ['welcome', 'button-0-0', 'ask_name'],
      ['welcome', 'button-1-0', 'welcome'],
      ['ask_name', 'next', 'finish'],
      ['finish', 'button-0-0', 'scenario:support'],
    ])
    expect(graph.stubs).toEqual([{ id: 'scenario:support', scenarioId: 'support', title: 'Support' }])
  })

  it('lays out the tree of first arrivals from the entry step', () => {
    const source = LocalSource.seeded('demo')
    setButton(source.document('demo/buttons').doc, 'ob_later', { text: 'Skip', action: { type: 'goto', scenarioId: 'onboarding', stepId: 'finish' } })
    const { map } = demoMap(source)
    expect(map.graph.edges.map((edge) => edge.id)).toEqual(['welcome/button-0-0', 'welcome/button-1-0', 'ask_name/next', 'finish/button-0-0'])
    // The first step reaches the last one directly: ask_name's next is drawn, not laid out.
    expect(layoutTree(map.graph).map((edge) => edge.id)).toEqual(['welcome/button-0-0', 'welcome/button-1-0', 'finish/button-0-0'])
  })

  it('keeps stored positions, places the other steps automatically, and never on top of a stored one', () => {
    const { map } = demoMap()
    const size = (): Size => ({ width: 100, height: 100 })
    const auto = { welcome: { x: 0, y: 0 }, ask_name: { x: 200, y: 0 }, finish: { x: 400, y: 0 }, 'scenario:support': { x: 600, y: 0 } }
    expect(placeNodes(map.graph, {}, size, () => auto)).toEqual(auto)
    const placed = placeNodes(map.graph, { finish: { x: 200, y: 10 } }, size, () => auto)
    expect(placed.finish).toEqual({ x: 200, y: 10 })
    expect(placed.welcome).toEqual({ x: 0, y: 0 })
    expect(placed.ask_name.x).toBe(200)
    expect(placed.ask_name.y).toBeGreaterThanOrEqual(130)
    // The stub sits to the right of the step whose button goes there.
    expect(placed['scenario:support'].x).toBeGreaterThan(300)
  })
})

describe('FlowMapState', () => {
  it("links a button or a step's next to a step through the accessors, and removing a link is undone like any edit", () => {
    const { source, editor, map } = demoMap()
    const buttons = source.document('demo/buttons').doc
    const content = source.document('demo/scenario/onboarding').doc
    expect(map.canConnect({ source: 'welcome', sourceHandle: 'button-1-0', target: 'scenario:support' })).toBe(false)
    expect(map.connect({ source: 'welcome', sourceHandle: 'button-1-0', target: 'finish' })).toBe(true)
    expect(projectButtons(buttons).ob_later.action).toEqual({ type: 'goto', scenarioId: 'onboarding', stepId: 'finish' })
    map.connect({ source: 'finish', sourceHandle: 'next', target: 'welcome' })
    expect(projectScenario(content).steps.finish.next).toBe('welcome')

    map.removeEdges(['welcome/button-1-0', 'finish/next'])
    expect(projectButtons(buttons).ob_later.action).toEqual({ type: 'end' })
    expect(projectScenario(content).steps.finish.next).toBeNull()
    editor.undo.undo()
    editor.undo.undo()
    expect(projectButtons(buttons).ob_later.action).toEqual({ type: 'goto', scenarioId: 'onboarding', stepId: 'finish' })
    expect(projectScenario(content).steps.finish.next).toBe('welcome')
    editor.destroy()
  })

  it('stores dropped positions of steps only, once per drop, and a viewer changes nothing', () => {
    const { source, editor, map } = demoMap()
    const content = source.document('demo/scenario/onboarding').doc
    let updates = 0
    content.on('update', () => updates++)
    map.moveSteps({ welcome: { x: 12.4, y: 40 }, 'scenario:support': { x: 1, y: 1 } })
    expect(updates).toBe(1)
    expect(getFlowPositions(content)).toEqual({ welcome: { x: 12, y: 40 } })
    expect(map.positions.welcome).toEqual({ x: 12, y: 40 })
    setFlowPosition(content, 'finish', { x: 900, y: 900 })
    expect(map.positions.finish).toEqual({ x: 900, y: 900 })
    editor.destroy()

    const viewer = LocalSource.seeded('demo')
    for (const document of viewer.documents.values()) document.readOnly = true
    const readOnly = demoMap(viewer)
    readOnly.map.moveSteps({ welcome: { x: 5, y: 5 } })
    readOnly.map.connect({ source: 'welcome', sourceHandle: 'button-1-0', target: 'finish' })
    expect(getFlowPositions(viewer.document('demo/scenario/onboarding').doc)).toEqual({})
    expect(projectButtons(viewer.document('demo/buttons').doc).ob_later.action).toEqual({ type: 'end' })
    readOnly.editor.destroy()
  })
})
