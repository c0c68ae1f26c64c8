// Light or dark, as Telegram draws the chat: chosen per admin (the signed-in
// user's id in the key), remembered in localStorage across reloads and tabs.
export type PreviewThemeName = 'light' | 'dark'

const KEY_PREFIX = 'botsync:preview-theme:'

export class PreviewTheme {
  readonly #key: string
  readonly #storage: Storage | null
  #current = $state<PreviewThemeName>('light')

  constructor(userId: string | undefined, storage: Storage | null = globalThis.localStorage ?? null) {
    this.#key = KEY_PREFIX + (userId ?? 'anonymous')
    this.#storage = storage
    const saved = this.#read()
    if (saved) this.#current = saved
  }

  get current(): PreviewThemeName {
    return this.#current
  }

  set(theme: PreviewThemeName): void {
    this.#current = theme
    try {
      this.#storage?.setItem(this.#key, theme)
    } catch {
      // Storage full or refused (private mode): the choice lasts for this page.
    }
  }

  toggle(): void {
    this.set(this.#current === 'light' ? 'dark' : 'light')
  }

  #read(): PreviewThemeName | null {
    try {
      const value = this.#storage?.getItem(this.#key)
      return value === 'light' || value === 'dark' ? value : null
    } catch {
      return null
    }
  }
}
