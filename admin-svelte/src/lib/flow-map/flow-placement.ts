// Where each node of the map is drawn. Stored positions (the scenario
// document's layout map) win; the rest is placed here, the same way on every
// admin's screen, since it depends only on the documents:
// - nothing stored yet: the whole graph laid out by dagre, left to right;
// - some stored: the others where dagre puts them (so the first drag moves
//   only the dragged node), moved down where a stored step already is;
// - stubs (other scenarios) then sit to the right of the steps whose buttons
//   go there.
// Only a drag or "Arrange" stores positions: filling in the others' on a
// drag would race a co-editor's drag of one of them.
//
// dagre rather than elkjs: its layered layout is what a flow of steps needs,
// it runs synchronously in a few milliseconds for a hundred steps (so the map
// is drawn in one pass, no worker), and it is a small fraction of elkjs' size.
import { Graph, layout } from '@dagrejs/dagre'
import type { FlowPosition } from '@botsync/shared-docs'
import type { FlowGraph, FlowStep } from './flow-graph.ts'

export interface Size {
  width: number
  height: number
}

/** Node widths are fixed by the stylesheet (flow-map.css); heights follow the content. */
export const STEP_WIDTH = 260
export const STUB_SIZE: Size = { width: 180, height: 44 }
const GAP_X = 90
const GAP_Y = 40

/** A step card's height before it is drawn and measured (see flow-map.css). */
export function estimateStepSize(step: FlowStep): Size {
  const header = 40
  // The excerpt is left out when the title already says it all (an unnamed short message).
  const excerpt = step.excerpt === step.title ? 0 : step.excerpt ? 40 : 22
  const buttons = step.rows.length * 30
  const footer = 28
  return { width: STEP_WIDTH, height: header + excerpt + buttons + footer }
}

/**
 * The links the layout follows: for each node, the first link that reaches
 * it going breadth-first from the entry step (then from each step nothing
 * reaches, in the list's order). dagre lays out this tree in milliseconds;
 * given every link, its crossing minimisation turns each long link (a skip
 * ahead, a loop back) into a chain of placeholder nodes and takes about a
 * second for 100 steps with 300 links. The other links are drawn over it.
 */
export function layoutTree(graph: FlowGraph): FlowGraph['edges'] {
  const outgoing = new Map<string, FlowGraph['edges']>()
  for (const edge of graph.edges) outgoing.set(edge.source, [...(outgoing.get(edge.source) ?? []), edge])
  const entry = graph.steps.find((step) => step.isEntry)
  const roots = [...(entry ? [entry.id] : []), ...graph.steps.map((step) => step.id)]
  const reached = new Set<string>()
  const tree: FlowGraph['edges'] = []
  for (const root of roots) {
    if (reached.has(root)) continue
    reached.add(root)
    const queue = [root]
    for (let i = 0; i < queue.length; i++) {
      for (const edge of outgoing.get(queue[i]) ?? []) {
        if (reached.has(edge.target)) continue
        reached.add(edge.target)
        tree.push(edge)
        queue.push(edge.target)
      }
    }
  }
  return tree
}

/** Top-left corners from dagre, left to right, for every node of the graph. */
export function autoLayout(graph: FlowGraph, sizeOf: (id: string) => Size): Record<string, FlowPosition> {
  const g = new Graph({ multigraph: true })
  g.setGraph({ rankdir: 'LR', nodesep: GAP_Y, ranksep: GAP_X, edgesep: 16, marginx: 0, marginy: 0 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const node of [...graph.steps, ...graph.stubs]) g.setNode(node.id, { ...sizeOf(node.id) })
  for (const edge of layoutTree(graph)) g.setEdge(edge.source, edge.target, {}, edge.id)
  layout(g)
  const positions: Record<string, FlowPosition> = {}
  for (const id of g.nodes()) {
    const { x, y, width, height } = g.node(id)
    positions[id] = { x: Math.round(x - width / 2), y: Math.round(y - height / 2) }
  }
  return positions
}

interface Box extends FlowPosition, Size {}

function overlaps(a: Box, boxes: Iterable<Box>): boolean {
  for (const b of boxes) {
    if (a.x < b.x + b.width + GAP_Y / 2 && b.x < a.x + a.width + GAP_Y / 2 && a.y < b.y + b.height + GAP_Y / 2 && b.y < a.y + a.height + GAP_Y / 2) return true
  }
  return false
}

/** Moves `box` down until it overlaps nothing placed. */
function freeSpot(box: Box, placed: Iterable<Box>): FlowPosition {
  const others = [...placed]
  const candidate = { ...box }
  while (overlaps(candidate, others)) candidate.y += GAP_Y
  return { x: candidate.x, y: candidate.y }
}

/** The structure the auto layout depends on: a new layout is needed only when this changes (not on every letter typed). */
export function layoutKey(graph: FlowGraph, sizeOf: (id: string) => Size): string {
  const nodes = [...graph.steps, ...graph.stubs].map((node) => {
    const { width, height } = sizeOf(node.id)
    return `${node.id}:${width}x${height}`
  })
  return `${nodes.join(',')}|${layoutTree(graph)
    .map((edge) => `${edge.source}>${edge.target}`)
    .join(',')}`
}

/** `auto`: the auto layout of the graph, asked for only when some step has no stored position. */
export function placeNodes(
  graph: FlowGraph,
  stored: Record<string, FlowPosition>,
  sizeOf: (id: string) => Size,
  auto: () => Record<string, FlowPosition> = () => autoLayout(graph, sizeOf),
): Record<string, FlowPosition> {
  const unplaced = graph.steps.filter((step) => !Object.hasOwn(stored, step.id))
  if (unplaced.length === graph.steps.length) return auto()
  const automatic = unplaced.length > 0 ? auto() : {}
  const boxes = new Map<string, Box>()
  const place = (id: string, position: FlowPosition): void => {
    boxes.set(id, { ...position, ...sizeOf(id) })
  }
  for (const step of graph.steps) if (Object.hasOwn(stored, step.id)) place(step.id, stored[step.id])
  // Where the auto layout has them, unless a stored step is there already.
  for (const step of unplaced) place(step.id, freeSpot({ ...automatic[step.id], ...sizeOf(step.id) }, boxes.values()))
  for (const stub of graph.stubs) {
    const sources = graph.edges.filter((edge) => edge.target === stub.id).map((edge) => boxes.get(edge.source)!)
    const x = Math.max(...sources.map((b) => b.x + b.width)) + GAP_X
    const y = Math.round(sources.reduce((sum, b) => sum + b.y, 0) / sources.length)
    place(stub.id, freeSpot({ x, y, ...sizeOf(stub.id) }, boxes.values()))
  }
  return Object.fromEntries([...boxes].map(([id, { x, y }]) => [id, { x, y }]))
}
