// Hash routes: #/<space>/scenarios, #/<space>/scenario/<id>, #/<space>/buttons,
// #/<space>/settings, #/<space>/activity. Hash routing needs nothing from the
// server beyond index.html and works the same on the Vite dev server.
import { isValidId, isValidSpace } from '@botsync/shared-docs'

export const DEFAULT_SPACE = 'demo'

export type PageName = 'scenarios' | 'scenario' | 'buttons' | 'settings' | 'activity'

export type Route =
  | { space: string; page: 'scenarios' | 'buttons' | 'settings' | 'activity' }
  | { space: string; page: 'scenario'; scenarioId: string }
  | { space: string; page: 'not-found'; path: string }

const SIMPLE_PAGES = new Set(['scenarios', 'buttons', 'settings', 'activity'])

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
  const [space, page, id] = parts
  if (!isValidSpace(space)) return { space: DEFAULT_SPACE, page: 'not-found', path }
  if (parts.length === 1) return { space, page: 'scenarios' }
  if (parts.length === 2 && SIMPLE_PAGES.has(page)) return { space, page: page as 'scenarios' }
  if (parts.length === 3 && page === 'scenario' && isValidId(id)) return { space, page: 'scenario', scenarioId: id }
  return { space, page: 'not-found', path }
}

export function href(space: string, page: Exclude<PageName, 'scenario'>): string
export function href(space: string, page: 'scenario', scenarioId: string): string
export function href(space: string, page: PageName, scenarioId?: string): string {
  return page === 'scenario' ? `#/${space}/scenario/${scenarioId}` : `#/${space}/${page}`
}
