// Which part of the Mini App the reader looks at: the whole page, or one
// scenario's section. Inside a section Telegram's own back button (in the
// Mini App's header) is shown and goes back; outside Telegram, or in a
// client without it, the page draws its own back link instead. The URL is
// left alone: its hash holds Telegram's launch parameters.
import type { TelegramBackButton } from './launch-params.ts'

export class ReaderNavigation {
  #scenarioId = $state<string | null>(null)
  readonly #backButton: TelegramBackButton | null
  #scrollBack = 0

  constructor(backButton: TelegramBackButton | undefined) {
    this.#backButton = backButton && typeof backButton.show === 'function' && typeof backButton.onClick === 'function' ? backButton : null
    this.#backButton?.onClick(this.#onBack)
  }

  /** The scenario whose section is open, or null on the whole page. */
  get current(): string | null {
    return this.#scenarioId
  }

  /** True when Telegram draws the back button, so the page does not draw its own. */
  get telegramBack(): boolean {
    return this.#backButton !== null
  }

  open(scenarioId: string): void {
    if (this.#scenarioId === null) this.#scrollBack = window.scrollY
    this.#scenarioId = scenarioId
    this.#backButton?.show()
    window.scrollTo({ top: 0 })
  }

  back(): void {
    if (this.#scenarioId === null) return
    this.#scenarioId = null
    this.#backButton?.hide()
    // Where the reader was on the page, once it is drawn again.
    const top = this.#scrollBack
    requestAnimationFrame(() => window.scrollTo({ top }))
  }

  #onBack = (): void => this.back()

  destroy(): void {
    this.#backButton?.offClick(this.#onBack)
    this.#backButton?.hide()
  }
}
