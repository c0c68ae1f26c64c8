// The admin's cold load, in Debian's Chromium against the real server (in
// this process, real PostgreSQL) serving the admin built from this checkout.
//
// What is measured, per page load: a new tab (a new page in the same browser
// context, so the same origin, cookie and storage) opens the space's scenario
// list, `#/<space>/scenarios`, and
//   - `listedMs`: navigation start → the scenario list showing its rows: the
//     `performance.mark('botsync:scenarios-listed')` the list page sets in
//     the effect that runs once its first rows are in the DOM (read back with
//     `performance.getEntriesByName`; its startTime is relative to the
//     navigation's start, `performance.timeOrigin`);
//   - `interactiveMs`, the figure with the target: navigation start → the
//     first task that runs after that mark, i.e. the page rendered its list
//     and its main thread is free to handle a click or a key. An init script
//     observes the mark (PerformanceObserver) and posts a task
//     (MessageChannel) that stamps `performance.now()`.
// Everything a new tab does is included: the page and its scripts, the
// session from the refresh cookie (`POST /api/refresh`), the spaces list,
// the scenarios document from IndexedDB and the server.
//
// Three ways of arriving:
//   - `serviceWorker` (the target): the service worker's second visit. The
//     first page of a context installs it (and logs in); each measured page
//     after that is a new tab served by it: index.html, scripts, styles and
//     icons from its precache, the documents from IndexedDB and the socket.
//   - `noServiceWorker`: the same, in a context whose service workers are
//     blocked: index.html revalidated with the server each time, the hashed
//     scripts from the HTTP cache.
//   - `firstVisit`: a fresh context each time (nothing cached, no service
//     worker, no IndexedDB), logged in by its own request first.
//
// The machine is shared and its load varies: the load average is recorded.
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { demoSeed } from '@botsync/shared-docs'
import type { BotsyncServer } from '@botsync/server'
import type { Browser } from 'playwright-core'
import { launchChromium, logInThroughForm } from '@botsync/testkit/browser'
import { startServer, uniqueSpace } from '@botsync/testkit/server'
import { latencySummary, round2 } from '../lib/percentiles.ts'
import { timeLoad, watchInteractive, type LoadTiming } from '../lib/interactive-mark.ts'

const LOADS = 20
const FIRST_VISITS = 5
const TARGET_INTERACTIVE_P99_MS = 1000
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

function summary(loads: LoadTiming[]) {
  return {
    loads: loads.length,
    controlled: loads.filter((load) => load.controlled).length,
    listedMs: latencySummary(loads.map((load) => load.listedMs)),
    interactiveMs: latencySummary(loads.map((load) => load.interactiveMs)),
  }
}

async function loggedInContext(browser: Browser, server: BotsyncServer, space: string, email: string, password: string, serviceWorkers: 'allow' | 'block') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers })
  await watchInteractive(context)
  const page = await context.newPage()
  await logInThroughForm(page, `http://127.0.0.1:${server.port}`, space, email, password)
  if (serviceWorkers === 'allow') await page.evaluate(async () => void (await navigator.serviceWorker.ready))
  await page.close()
  return context
}

export default async function run(): Promise<Record<string, unknown>> {
  // What `npm start` serves: the admin built from this checkout (with its service worker).
  execFileSync('npm', ['run', 'build', '-w', 'admin-svelte'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  const loadBefore = loadavg()
  const server = await startServer()
  const browser = await launchChromium()
  try {
    const space = uniqueSpace()
    await server.spaces.ensure(space)
    for (const [name, update] of demoSeed(space)) await server.store.append(name, update)
    const email = `ana-${randomUUID()}@bench.local`
    const password = `pw-${randomUUID()}`
    const user = await server.users.create({ email, name: 'Ana', password })
    await server.members.add(space, user.id, 'editor')
    const base = `http://127.0.0.1:${server.port}`
    const url = `${base}/#/${space}/scenarios`

    const firstVisits: LoadTiming[] = []
    for (let i = 0; i < FIRST_VISITS; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' })
      await watchInteractive(context)
      // The context's own request sets its refresh cookie, as a login would; the page then starts from nothing cached.
      const answer = await context.request.post(`${base}/api/login`, { data: { email, password } })
      if (!answer.ok()) throw new Error(`login failed: ${answer.status()}`)
      firstVisits.push(await timeLoad(context, url))
      await context.close()
    }

    const withoutWorker = await loggedInContext(browser, server, space, email, password, 'block')
    const noServiceWorker: LoadTiming[] = []
    for (let i = 0; i < LOADS; i++) noServiceWorker.push(await timeLoad(withoutWorker, url))
    await withoutWorker.close()

    const withWorker = await loggedInContext(browser, server, space, email, password, 'allow')
    const serviceWorker: LoadTiming[] = []
    for (let i = 0; i < LOADS; i++) serviceWorker.push(await timeLoad(withWorker, url))
    await withWorker.close()
    if (serviceWorker.some((load) => !load.controlled)) throw new Error('a page of the service worker context was not served by it')

    const measured = summary(serviceWorker)
    return {
      loadBefore: loadBefore.map(round2),
      loadAfter: loadavg().map(round2),
      serviceWorker: measured,
      noServiceWorker: summary(noServiceWorker),
      firstVisit: summary(firstVisits),
      note: 'ms from navigation start in a new tab: listedMs to the scenario list rendering its rows (the app’s performance mark), interactiveMs to the first task after it (the main thread free for input)',
      targets: {
        coldLoadInteractiveP99Ms: {
          target: `the admin's cold load on the service worker's second visit, new tab → scenario list interactive, p99 ≤ ${TARGET_INTERACTIVE_P99_MS} ms`,
          limit: TARGET_INTERACTIVE_P99_MS,
          value: measured.interactiveMs.p99,
          met: measured.interactiveMs.p99 <= TARGET_INTERACTIVE_P99_MS,
        },
      },
    }
  } finally {
    await browser.close().catch(() => {})
    await server.stop()
  }
}
