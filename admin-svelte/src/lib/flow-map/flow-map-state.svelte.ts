// The flow map of one scenario: the graph of its steps (flow-graph.ts), where
// each node sits (flow-placement.ts over the layout map the scenario document
// stores), and the map's edits. It reads the documents the scenario editor
// has open and writes through shared-docs' accessors in the editor's undo
// history, so Ctrl+Z undoes a drag or a drawn link like any other edit.
import { buttonsRoot, flowLayoutMap, getFlowPositions, setButtonAction, setFlowPositions, setStepNext, type FlowPosition } from '@botsync/shared-docs'
import type * as Y from 'yjs'
import type { Peer } from '../presence/presence-state.svelte.ts'
import type { ScenarioEditorState } from '../scenarios/scenario-editor-state.svelte.ts'
import { edit } from '../yjs/edit-origin.ts'
import { YState } from '../yjs/y-state.svelte.ts'
import { buildFlowGraph, NEXT_HANDLE, parseButtonHandle, type FlowEdge, type FlowGraph, type FlowStep, type FlowStub } from './flow-graph.ts'
import { autoLayout, estimateStepSize, layoutKey, placeNodes, STUB_SIZE, type Size } from './flow-placement.ts'

export interface FlowConnection {
  source: string
  sourceHandle?: string | null
  target: string
}

export class FlowMapState {
  readonly editor: ScenarioEditorState
  readonly #layout: YState<Record<string, FlowPosition>>

  constructor(editor: ScenarioEditorState) {
    this.editor = editor
    const content = editor.content.doc
    this.#layout = new YState(flowLayoutMap(content), () => getFlowPositions(content))
    // The map's own edits are undone with the rest of the page's.
    editor.undo.track(flowLayoutMap(content))
    editor.undo.track(buttonsRoot(editor.buttonsDoc.doc))
  }

  #graph = $derived.by((): FlowGraph =>
    buildFlowGraph({ scenarioId: this.editor.scenarioId, scenario: this.editor.scenario, buttons: this.editor.buttons, scenarios: this.editor.scenarios }),
  )
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- rebuilt whole by the $derived, never mutated
  #steps = $derived.by(() => new Map(this.#graph.steps.map((step) => [step.id, step])))
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- rebuilt whole by the $derived, never mutated
  #stubs = $derived.by(() => new Map(this.#graph.stubs.map((stub) => [stub.id, stub])))
  /** The last auto layout and what it was made for: typing in a step changes the graph, rarely its structure. */
  #auto: { key: string; positions: Record<string, FlowPosition> } | null = null
  #positions = $derived.by(() => {
    const graph = this.#graph
    const size = (id: string): Size => this.#estimate(id)
    return placeNodes(graph, this.#layout.current, size, () => {
      const key = layoutKey(graph, size)
      if (this.#auto?.key !== key) this.#auto = { key, positions: autoLayout(graph, size) }
      return this.#auto.positions
    })
  })

  get graph(): FlowGraph {
    return this.#graph
  }

  /** Where every node (steps and stubs) is drawn, top-left corners. */
  get positions(): Record<string, FlowPosition> {
    return this.#positions
  }

  get readOnly(): boolean {
    return this.editor.readOnly || this.editor.buttonsDoc.readOnly
  }

  step(id: string): FlowStep | undefined {
    return this.#steps.get(id)
  }

  stub(id: string): FlowStub | undefined {
    return this.#stubs.get(id)
  }

  /** Problems validation finds in the step (its message, keyboard, answer, next). */
  problemCount(stepId: string): number {
    return this.editor.problems.under(this.editor.problemDocument, ['scenario', 'steps', stepId]).length
  }

  /** Other admins on this step: in its card (list or side panel) or on its node. */
  editorsOf(stepId: string): Peer[] {
    return this.editor.presence.editorsOf(stepId)
  }

  /** Tells the others this admin is on the step (its node is being dragged or opened). */
  focus(stepId: string): void {
    const step = this.#steps.get(stepId)
    if (step) this.editor.presence.setFocus({ item: stepId, label: step.title })
  }

  #estimate(id: string): Size {
    const step = this.#steps.get(id)
    return step ? estimateStepSize(step) : STUB_SIZE
  }

  #write(doc: Y.Doc, change: () => void): void {
    if (this.readOnly) return
    this.editor.undo.stopCapturing()
    edit(doc, change)
    this.editor.undo.stopCapturing()
  }

  /** Stores where steps were dropped: once, when a drag ends (never on every pointer move). */
  moveSteps(positions: Record<string, FlowPosition>): void {
    const steps = Object.fromEntries(Object.entries(positions).filter(([id]) => this.#steps.has(id)))
    if (Object.keys(steps).length === 0) return
    this.#write(this.editor.content.doc, () => setFlowPositions(this.editor.content.doc, steps))
  }

  /** Lays the whole map out again and stores every step's position. `measured`: the drawn sizes where known. */
  arrange(measured: (id: string) => Size | undefined = () => undefined): void {
    const positions = autoLayout(this.#graph, (id) => measured(id) ?? this.#estimate(id))
    this.moveSteps(positions)
  }

  /** Whether a link drawn from `source`'s handle to `target` means something: always to a step. */
  canConnect(connection: FlowConnection): boolean {
    if (this.readOnly || !this.#steps.has(connection.source) || !this.#steps.has(connection.target)) return false
    if (connection.sourceHandle === NEXT_HANDLE) return true
    const buttonId = this.#buttonAt(connection.source, connection.sourceHandle)
    // A keyboard may list a button that was deleted: there is nothing to link.
    return buttonId !== null && Object.hasOwn(this.editor.buttons, buttonId)
  }

  /**
   * A link drawn on the map: from a step's next handle, the step's next step;
   * from a button's, the button goes to that step (the button is the space's:
   * every keyboard it is on goes there).
   */
  connect(connection: FlowConnection): boolean {
    if (!this.canConnect(connection)) return false
    const { source, sourceHandle, target } = connection
    if (sourceHandle === NEXT_HANDLE) {
      this.#write(this.editor.content.doc, () => setStepNext(this.editor.content.doc, source, target))
      return true
    }
    const buttonId = this.#buttonAt(source, sourceHandle)!
    const buttons = this.editor.buttonsDoc.doc
    this.#write(buttons, () => setButtonAction(buttons, buttonId, { type: 'goto', scenarioId: this.editor.scenarioId, stepId: target }))
    return true
  }

  /**
   * Removes links: a step's next step is cleared; a button that went
   * somewhere ends the conversation instead (it stays on its keyboards).
   */
  removeEdges(edgeIds: readonly string[]): void {
    const edges = this.#graph.edges.filter((edge) => edgeIds.includes(edge.id))
    const next = edges.filter((edge): edge is Extract<FlowEdge, { kind: 'next' }> => edge.kind === 'next')
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup, gone when the method returns
    const buttonIds = [...new Set(edges.flatMap((edge) => (edge.kind === 'button' ? [edge.buttonId] : [])))]
    if (next.length > 0) {
      const content = this.editor.content.doc
      this.#write(content, () => {
        for (const edge of next) setStepNext(content, edge.source, null)
      })
    }
    if (buttonIds.length > 0) {
      const buttons = this.editor.buttonsDoc.doc
      this.#write(buttons, () => {
        for (const id of buttonIds) setButtonAction(buttons, id, { type: 'end' })
      })
    }
  }

  #buttonAt(stepId: string, handle: string | null | undefined): string | null {
    const place = parseButtonHandle(handle)
    if (!place) return null
    return this.#steps.get(stepId)?.rows[place.row]?.[place.column]?.buttonId ?? null
  }
}
