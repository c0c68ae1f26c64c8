import { parseRoute, type Route } from './route.ts'

/** The current route, following `location.hash`. */
export class HashRouter {
  #current = $state<Route>(parseRoute(typeof location === 'undefined' ? '' : location.hash))

  constructor() {
    if (typeof window !== 'undefined') window.addEventListener('hashchange', this.#sync)
  }

  get current(): Route {
    return this.#current
  }

  #sync = (): void => {
    this.#current = parseRoute(location.hash)
  }

  go(hash: string): void {
    if (location.hash === hash) return
    location.hash = hash
  }

  destroy(): void {
    window.removeEventListener('hashchange', this.#sync)
  }
}
