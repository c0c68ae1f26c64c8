// List or map: how this admin last looked at a scenario, per signed-in user,
// remembered in localStorage. A link without a view (#/<space>/scenario/<id>,
// as the scenario list and the other pages write it) opens in this one; the
// List | Map switch names its view in the address and remembers it.
import type { ScenarioView } from '../routing/route.ts'

const KEY_PREFIX = 'botsync:scenario-view:'

export class ScenarioViewChoice {
  readonly #key: string
  readonly #storage: Storage | null
  #current = $state<ScenarioView>('list')

  constructor(userId: string | undefined, storage: Storage | null = globalThis.localStorage ?? null) {
    this.#key = KEY_PREFIX + (userId ?? 'anonymous')
    this.#storage = storage
    try {
      const saved = this.#storage?.getItem(this.#key)
      if (saved === 'list' || saved === 'map') this.#current = saved
    } catch {
      // Storage refused (private mode): the list, as before there was a map.
    }
  }

  get current(): ScenarioView {
    return this.#current
  }

  remember(view: ScenarioView): void {
    if (this.#current === view) return
    this.#current = view
    try {
      this.#storage?.setItem(this.#key, view)
    } catch {
      // Storage full or refused: the choice lasts for this page.
    }
  }
}
