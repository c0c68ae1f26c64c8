// Starting the Mini App: the launch data is checked by the server
// (/api/miniapp/me names the one document this reader may read), then the
// live reader opens. Whatever stops it is kept as a LaunchProblem for the
// page to put into words; without launch data, the bot's @username is asked
// (/api/miniapp/bot), so the page can say where to open it.
import type { MiniAppBotView } from '@botsync/shared-docs'
import type { LaunchProblem } from './launch-problem.ts'
import { PublicReader } from './public-reader.svelte.ts'

export class ReaderLaunch {
  #problem = $state<LaunchProblem | null>(null)
  #reader = $state<PublicReader | null>(null)
  #botUsername = $state<string | null>(null)
  readonly #initData: string | null
  readonly #space: string | null

  constructor(options: { initData: string | null; space: string | null }) {
    this.#initData = options.initData
    this.#space = options.space
  }

  /** Why the content is not shown, or null. A refusal on the reader socket counts too. */
  get problem(): LaunchProblem | null {
    if (this.#problem) return this.#problem
    if (this.#reader?.status === 'refused') return { kind: 'refused', code: this.#reader.refusal ?? 'refused' }
    return null
  }

  get reader(): PublicReader | null {
    return this.#reader
  }

  /** The @username (without @) of the space's bot, once known; only asked when there is no launch data. */
  get botUsername(): string | null {
    return this.#botUsername
  }

  #query(): string {
    // The page's URL names its space (?space=, set by that space's bot). No ?space=: BOT_SPACE.
    return this.#space ? `?space=${encodeURIComponent(this.#space)}` : ''
  }

  async start(): Promise<void> {
    this.#problem = null
    if (!this.#initData) {
      this.#problem = { kind: 'no-launch' }
      await this.#askBotName()
      return
    }
    let response: Response
    try {
      response = await fetch(`/api/miniapp/me${this.#query()}`, { headers: { authorization: `tma ${this.#initData}` } })
    } catch {
      this.#problem = { kind: 'unreachable' }
      return
    }
    const body = (await response.json().catch(() => null)) as { document?: string; error?: string } | null
    if (!response.ok || !body?.document) {
      // A 4xx with a code is a refusal of this launch; anything else is the server's trouble.
      this.#problem = response.status < 500 && body?.error ? { kind: 'refused', code: body.error } : { kind: 'unreachable' }
      return
    }
    // Readers have their own lean endpoint; /collab is for admins and the bot.
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/readers`
    this.#reader = new PublicReader({ url, document: body.document, initData: this.#initData })
  }

  async #askBotName(): Promise<void> {
    try {
      const response = await fetch(`/api/miniapp/bot${this.#query()}`)
      if (!response.ok) return
      const body = (await response.json()) as Partial<MiniAppBotView>
      if (typeof body.username === 'string' && /^\w{1,64}$/.test(body.username)) this.#botUsername = body.username
    } catch {
      // Unknown: the page explains without the name.
    }
  }

  destroy(): void {
    this.#reader?.destroy()
  }
}
