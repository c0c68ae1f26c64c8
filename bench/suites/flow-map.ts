// The flow map of a 100-step scenario, in Debian's Chromium against the real
// server (in this process, real PostgreSQL) serving the built admin. The
// scenario is seeded on the server, deterministically: 100 steps, each with a
// two-button keyboard (one button to the next step, one to a step seven
// further on) and a next step three further on, so 300 links, with loops.
// No step has a stored position: every open lays the map out (dagre).
//
// 1. Opening the map. The admin is on the scenario list page; the page notes
//    performance.now() and sets the map's address (#/<space>/scenario/<id>/map):
//    the documents are opened (this device's copy, then the server), the
//    map laid out and drawn. A MutationObserver in the page (nodes added,
//    Svelte Flow's styles set) schedules a check in the next animation
//    frame; the first frame in which all 100 step nodes are in the DOM and
//    visible (Svelte Flow shows a node only once it has measured it) is the
//    frame that paints the whole map: its callback's performance.now() − the
//    start. Ten opens, after one untimed (the map's code is fetched once).
//    Target: p99 ≤ 300 ms (every open, not the typical one). Also reported, no target: the
//    List → Map switch on the scenario page (the documents already open, but
//    the list's 100 step cards and their editors are torn down in the same
//    frames).
// 2. Dragging a node. With the map drawn, page.mouse drags a node: down on its
//    title, 60 moves of 4 px, one every ~16 ms (about 1 s), up. The page
//    records every requestAnimationFrame delta from the pointer down to the
//    pointer up. Five drags of different nodes. Reported: frame time p50/p99
//    and the fps they mean; target: p99 frame time ≤ 20 ms (≥ 50 fps).
//
// The machine is shared and its load varies: the load average is recorded
// before and after.
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { addStep, createScenario, docName, setButton, spaceSkeleton } from '@botsync/shared-docs'
import type { BotsyncServer } from '@botsync/server'
import type { Page } from 'playwright-core'
import * as Y from 'yjs'
import { launchChromium, logInThroughForm } from '@botsync/testkit/browser'
import { startServer, uniqueSpace } from '@botsync/testkit/server'
import { latencySummary, round2 } from '../lib/percentiles.ts'

const STEPS = 100
const OPENS = 10
const DRAGS = 5
const DRAG_MOVES = 60
const DRAG_MOVE_PX = 4
const DRAG_PACE_MS = 16
const TARGET_RENDER_MS = 300
const TARGET_FRAME_P99_MS = 20
const SCENARIO = 'big'
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

declare global {
  interface Window {
    __mapDrawn?: Promise<number>
    __frames?: { deltas: number[]; running: boolean }
  }
}

const stepId = (i: number): string => `s${String(i % STEPS).padStart(3, '0')}`

/** The space's documents: the skeleton, 200 buttons, and the 100-step scenario (fixed client ids: the same bytes every run). */
function seed(space: string): Map<string, Uint8Array> {
  const docs = spaceSkeleton(space)
  const make = (): Y.Doc => {
    const doc = new Y.Doc()
    doc.clientID = 77
    return doc
  }
  const buttons = make()
  Y.applyUpdate(buttons, docs.get(docName.buttons(space))!)
  const index = make()
  Y.applyUpdate(index, docs.get(docName.scenarios(space))!)
  const content = make()
  for (let i = 0; i < STEPS; i++) {
    setButton(buttons, `n${i}`, { text: `Continue ${i + 1}`, action: { type: 'goto', scenarioId: SCENARIO, stepId: stepId(i + 1) } })
    setButton(buttons, `j${i}`, { text: `Skip ahead ${i + 1}`, action: { type: 'goto', scenarioId: SCENARIO, stepId: stepId(i + 7) } })
  }
  const step = (i: number) => ({
    id: stepId(i),
    title: `Step ${i + 1}`,
    message: `Message of step ${i + 1}: a couple of sentences, as a real bot would send. Pick one of the buttons below.`,
    keyboard: { kind: 'inline' as const, rows: [[`n${i}`], [`j${i}`]] },
    next: stepId(i + 3),
  })
  createScenario(index, content, { id: SCENARIO, title: 'A hundred steps', enabled: true, order: 0, trigger: { command: 'big' }, firstStep: step(0) })
  for (let i = 1; i < STEPS; i++) addStep(content, step(i))
  docs.set(docName.buttons(space), Y.encodeStateAsUpdate(buttons))
  docs.set(docName.scenarios(space), Y.encodeStateAsUpdate(index))
  docs.set(docName.scenario(space, SCENARIO), Y.encodeStateAsUpdate(content))
  return docs
}

/** Resolves with the time of the first frame that paints all step nodes, from the page's clock. */
function watchMapDrawn(page: Page): Promise<void> {
  return page.evaluate((steps) => {
    window.__mapDrawn = new Promise<number>((resolve) => {
      let pending = false
      const drawn = (): boolean => {
        const nodes = document.querySelectorAll('.svelte-flow__node-step')
        if (nodes.length < steps) return false
        for (const node of nodes) if ((node as HTMLElement).style.visibility !== 'visible') return false
        return true
      }
      const observer = new MutationObserver(() => {
        if (pending) return
        pending = true
        requestAnimationFrame(() => {
          pending = false
          if (!drawn()) return
          observer.disconnect()
          resolve(performance.now())
        })
      })
      observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['style', 'class'] })
    })
  }, STEPS)
}

async function mapDrawnAfter(page: Page, start: () => Promise<number>): Promise<number> {
  await watchMapDrawn(page)
  const startedAt = await start()
  const drawnAt = (await page.evaluate(() => window.__mapDrawn!)) as number
  return drawnAt - startedAt
}

async function openFromList(page: Page): Promise<number> {
  await page.getByRole('button', { name: 'List', exact: true }).click()
  await page
    .locator('[data-testid="step-card"]')
    .nth(STEPS - 1)
    .waitFor()
  return mapDrawnAfter(page, () =>
    page.evaluate(() => {
      const button = [...document.querySelectorAll('.view-switch button')].find((b) => b.textContent === 'Map') as HTMLButtonElement
      const at = performance.now()
      button.click()
      return at
    }),
  )
}

async function openFromScenarios(page: Page, space: string): Promise<number> {
  await page.evaluate((hash) => (location.hash = hash), `#/${space}/scenarios`)
  await page.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
  return mapDrawnAfter(page, () =>
    page.evaluate((hash) => {
      const at = performance.now()
      location.hash = hash
      return at
    }, `#/${space}/scenario/${SCENARIO}/map`),
  )
}

async function dragFrames(page: Page, node: string): Promise<number[]> {
  const title = page.locator(`.svelte-flow__node[data-id="${node}"] [data-testid="flow-step-title"]`)
  await title.scrollIntoViewIfNeeded()
  const box = await title.boundingBox()
  if (!box) throw new Error(`node ${node} is not drawn`)
  const start = { x: box.x + box.width / 2, y: box.y + box.height / 2 }
  await page.evaluate(() => {
    const frames = { deltas: [] as number[], running: true }
    window.__frames = frames
    let last = 0
    const tick = (now: number): void => {
      if (last !== 0) frames.deltas.push(now - last)
      last = now
      if (frames.running) requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
  })
  await page.mouse.move(start.x, start.y)
  await page.mouse.down()
  for (let i = 1; i <= DRAG_MOVES; i++) {
    await page.mouse.move(start.x + i * DRAG_MOVE_PX, start.y + (i % 2) * 2)
    await new Promise((resolve) => setTimeout(resolve, DRAG_PACE_MS))
  }
  await page.mouse.up()
  return page.evaluate(() => {
    window.__frames!.running = false
    return window.__frames!.deltas
  })
}

export default async function run(): Promise<Record<string, unknown>> {
  execFileSync('npm', ['run', 'build', '-w', 'admin-svelte'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  const loadBefore = loadavg()
  const server: BotsyncServer = await startServer()
  const browser = await launchChromium()
  try {
    const space = uniqueSpace()
    await server.spaces.ensure(space)
    for (const [name, update] of seed(space)) await server.store.append(name, update)
    const email = `ana-${randomUUID()}@bench.local`
    const password = `pw-${randomUUID()}`
    const user = await server.users.create({ email, name: 'Ana', password })
    await server.members.add(space, user.id, 'editor')
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    const baseUrl = `http://127.0.0.1:${server.port}`
    await logInThroughForm(page, baseUrl, space, email, password)
    await page.goto(`${baseUrl}/#/${space}/scenario/${SCENARIO}/map`)
    await page
      .locator('.svelte-flow__node-step')
      .nth(STEPS - 1)
      .waitFor()

    // One untimed open each way first: the map's chunk is fetched and compiled once per page.
    await openFromScenarios(page, space)
    const opens: number[] = []
    for (let i = 0; i < OPENS; i++) opens.push(await openFromScenarios(page, space))
    await openFromList(page)
    const switches: number[] = []
    for (let i = 0; i < OPENS; i++) switches.push(await openFromList(page))

    const frames: number[] = []
    for (let i = 0; i < DRAGS; i++) frames.push(...(await dragFrames(page, stepId(i * 2))))
    const open = latencySummary(opens)
    const frameMs = latencySummary(frames)
    return {
      loadBefore: loadBefore.map(round2),
      loadAfter: loadavg().map(round2),
      steps: STEPS,
      links: STEPS * 3,
      openMs: open,
      listToMapMs: latencySummary(switches),
      drag: { drags: DRAGS, moves: DRAG_MOVES, frameMs, fps: { p50: round2(1000 / frameMs.p50), p99: round2(1000 / frameMs.p99) } },
      note: 'openMs: the map address set on the scenario list page → the first animation frame with all 100 step nodes in the DOM and visible (MutationObserver + rAF in the page); listToMapMs: the same from a click on Map in the list view; drag: requestAnimationFrame deltas from pointer down to up, ~1 s per drag',
      targets: {
        openP99Ms: {
          target: `a ${STEPS}-step map opened and drawn, p99 ≤ ${TARGET_RENDER_MS} ms (p50: ${open.p50} ms)`,
          limit: TARGET_RENDER_MS,
          value: open.p99,
          met: open.p99 <= TARGET_RENDER_MS,
        },
        dragFrameP99Ms: {
          target: `frame time while dragging a node, p99 ≤ ${TARGET_FRAME_P99_MS} ms (≥ 50 fps)`,
          limit: TARGET_FRAME_P99_MS,
          value: frameMs.p99,
          met: frameMs.p99 <= TARGET_FRAME_P99_MS,
        },
      },
    }
  } finally {
    await browser.close().catch(() => {})
    await server.stop()
  }
}
