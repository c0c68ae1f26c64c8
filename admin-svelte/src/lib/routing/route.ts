// Hash routes: #/<space>/scenarios, #/<space>/scenario/<id> (in the view the
// user chose last; /list and /map name one; /list/<stepId> scrolls the list to
// a step: "Used in" links), #/<space>/buttons,
// #/<space>/settings, #/<space>/history, #/<space>/activity, #/<space>/members; and two outside
// any space: #/spaces (the list, creating one) and #/invite/<token> (an
// invite or reset link, opened logged out too). Hash routing needs nothing
// from the server beyond index.html and works the same on the Vite dev server.
//
// `#/spaces` and `#/invite/…` win over a space of that id, which is still
// reachable with a page: #/spaces/scenarios.
import { isValidId, isValidSpace } from '@botsync/shared-docs'

export const DEFAULT_SPACE = 'demo'

export type SpacePage = 'scenarios' | 'scenario' | 'buttons' | 'settings' | 'history' | 'activity' | 'members'

/** How a scenario is shown: its steps as a list of cards, or as a flow map. */
export type ScenarioView = 'list' | 'map'

export type SpaceRoute =
  | { space: string; page: 'scenarios' | 'buttons' | 'settings' | 'history' | 'activity' | 'members' }
  /** `view` null: the one this user chose last (see scenarios/scenario-view-choice.ts); `stepId`: a step to scroll to (list view). */
  | { space: string; page: 'scenario'; scenarioId: string; view: ScenarioView | null; stepId?: string }
  | { space: string; page: 'not-found'; path: string }

export type Route = SpaceRoute | { page: 'spaces' } | { page: 'invite'; token: string }

const SIMPLE_PAGES = new Set(['scenarios', 'buttons', 'settings', 'history', 'activity', 'members'])
/** Invite and reset tokens: url-safe, as the server issues them. */
const TOKEN_PATTERN = /^[A-Za-z0-9_.~-]{8,512}$/

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '')
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((part) => {
      try {
        return decodeURIComponent(part)
      } catch {
        return part
      }
    })
  if (parts.length === 0) return { space: DEFAULT_SPACE, page: 'scenarios' }
  if (parts.length === 1 && parts[0] === 'spaces') return { page: 'spaces' }
  if (parts[0] === 'invite' && (parts.length === 2 || parts.length === 1)) {
    return parts.length === 2 && TOKEN_PATTERN.test(parts[1]) ? { page: 'invite', token: parts[1] } : { space: DEFAULT_SPACE, page: 'not-found', path }
  }
  const [space, page, id, view, stepId] = parts
  if (!isValidSpace(space)) return { space: DEFAULT_SPACE, page: 'not-found', path }
  if (parts.length === 1) return { space, page: 'scenarios' }
  if (parts.length === 2 && SIMPLE_PAGES.has(page)) return { space, page: page as 'scenarios' }
  if (parts.length === 3 && page === 'scenario' && isValidId(id)) return { space, page: 'scenario', scenarioId: id, view: null }
  if (parts.length === 4 && page === 'scenario' && isValidId(id) && (view === 'list' || view === 'map')) {
    return { space, page: 'scenario', scenarioId: id, view }
  }
  if (parts.length === 5 && page === 'scenario' && isValidId(id) && view === 'list' && isValidId(stepId)) {
    return { space, page: 'scenario', scenarioId: id, view: 'list', stepId }
  }
  return { space, page: 'not-found', path }
}

/** The space a route is in, or null for the pages outside any space. */
export function routeSpace(route: Route): string | null {
  return 'space' in route ? route.space : null
}

export function href(space: string, page: Exclude<SpacePage, 'scenario'>): string
export function href(space: string, page: 'scenario', scenarioId: string, view?: ScenarioView): string
export function href(space: string, page: SpacePage, scenarioId?: string, view?: ScenarioView): string {
  if (page !== 'scenario') return `#/${space}/${page}`
  return view ? `#/${space}/scenario/${scenarioId}/${view}` : `#/${space}/scenario/${scenarioId}`
}

/** A step of a scenario, in the list view, scrolled to ("Used in" links). */
export function stepHref(space: string, scenarioId: string, stepId: string): string {
  return `#/${space}/scenario/${scenarioId}/list/${stepId}`
}

export const SPACES_HREF = '#/spaces'

export function inviteHref(token: string): string {
  return `#/invite/${encodeURIComponent(token)}`
}
