// The "Try it" chat: the admin talks to the space's bot as a user would.
// The bot's answers come from the server, where the bot's own runner runs
// them (POST /api/spaces/:space/simulator…, shared-docs simulator.ts): this
// class only keeps the conversation as Telegram shows it — messages in
// order, an edited message changed in place — and says what went wrong in
// words when a call fails.
import { SIMULATOR_ERRORS, type SimulatedMessage, type SimulatorAnswer, type SimulatorSessionCreated, type SimulatorSource } from '@botsync/shared-docs'
import { ApiClient, segment, type ApiOptions, type ApiResult } from '../api/api-client.ts'
import type { PreviewButton } from '../preview/rendered-message.ts'

export type ChatEntry = { kind: 'user'; key: number; text: string } | { kind: 'bot'; key: number; message: SimulatedMessage }

export interface SimulatorView {
  entries: readonly ChatEntry[]
  /** The reply keyboard Telegram would show now: the last bot message's, if it has one. */
  replyKeyboard: SimulatedMessage | null
  source: SimulatorSource
  busy: boolean
  error: string | null
  /** A conversation is open on the server. */
  started: boolean
}

export class SimulatorState {
  readonly #api: ApiClient
  readonly #base: string
  #id: string | null = null
  #entries = $state<ChatEntry[]>([])
  #source = $state<SimulatorSource>('drafts')
  #busy = $state(false)
  #error = $state<string | null>(null)
  #started = $state(false)
  #key = 0

  constructor(space: string, api: ApiOptions) {
    this.#api = new ApiClient(api)
    this.#base = `/api/spaces/${segment(space)}/simulator`
  }

  #current = $derived.by((): SimulatorView => {
    let replyKeyboard: SimulatedMessage | null = null
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]
      if (entry.kind !== 'bot') continue
      const markup = entry.message.replyMarkup
      replyKeyboard = markup && 'keyboard' in markup ? entry.message : null
      break
    }
    return { entries: this.#entries, replyKeyboard, source: this.#source, busy: this.#busy, error: this.#error, started: this.#started }
  })

  get current(): SimulatorView {
    return this.#current
  }

  /** A new conversation (Reset does this too); with a step, placed there and shown it ("Start from this step"). */
  async start(at?: { scenarioId: string; stepId: string }): Promise<void> {
    await this.#run(async () => {
      await this.#end()
      this.#entries = []
      const answer = await this.#api.request<SimulatorSessionCreated>('POST', this.#base, { source: this.#source, ...(at ?? {}) })
      if (!answer.ok) return answer
      this.#id = answer.body.id
      this.#started = true
      this.#apply(answer.body)
      return answer
    })
  }

  /** What the user types (a reply keyboard's button is its label, sent as a message, as in Telegram). */
  async send(text: string): Promise<void> {
    if (text.trim() === '') return
    await this.#run(async () => {
      if (!this.#id) {
        const created = await this.#api.request<SimulatorSessionCreated>('POST', this.#base, { source: this.#source })
        if (!created.ok) return created
        this.#id = created.body.id
        this.#started = true
      }
      this.#entries.push({ kind: 'user', key: this.#key++, text })
      const answer = await this.#api.request<SimulatorAnswer>('POST', `${this.#base}/${segment(this.#id)}/message`, { text })
      if (answer.ok) this.#apply(answer.body)
      return answer
    })
  }

  /** An inline button of a bot message; url and Mini App buttons open nothing here (Telegram opens those itself). */
  async press(messageId: number, button: PreviewButton): Promise<void> {
    if (!this.#id || (button.buttonId === undefined && button.callbackData === undefined)) return
    const id = this.#id
    await this.#run(async () => {
      const press = button.buttonId !== undefined ? { messageId, buttonId: button.buttonId } : { messageId, callbackData: button.callbackData }
      const answer = await this.#api.request<SimulatorAnswer>('POST', `${this.#base}/${segment(id)}/press`, press)
      if (answer.ok) this.#apply(answer.body)
      return answer
    })
  }

  /** Drafts, or what users get now (the current release in review mode): a new conversation with that content. */
  async setSource(source: SimulatorSource): Promise<void> {
    if (source === this.#source) return
    this.#source = source
    if (this.#started) await this.start()
  }

  /** Ends the conversation on the server (closing the panel, leaving the page). */
  async close(): Promise<void> {
    await this.#end()
    this.#entries = []
  }

  async #end(): Promise<void> {
    const id = this.#id
    this.#id = null
    this.#started = false
    if (id) await this.#api.request('DELETE', `${this.#base}/${segment(id)}`)
  }

  #apply(answer: SimulatorAnswer): void {
    for (const edited of answer.edited) {
      const index = this.#entries.findIndex((entry) => entry.kind === 'bot' && entry.message.messageId === edited.messageId)
      if (index !== -1) this.#entries[index] = { kind: 'bot', key: this.#entries[index].key, message: edited }
      else this.#entries.push({ kind: 'bot', key: this.#key++, message: edited })
    }
    for (const sent of answer.sent) this.#entries.push({ kind: 'bot', key: this.#key++, message: sent })
  }

  async #run(call: () => Promise<ApiResult<unknown>>): Promise<void> {
    this.#busy = true
    this.#error = null
    try {
      const answer = await call()
      if (!answer.ok) {
        if (answer.error === SIMULATOR_ERRORS.sessionNotFound) {
          this.#id = null
          this.#started = false
          this.#error = 'This conversation ended (it was unused for a while). Press Reset to start again.'
        } else this.#error = answer.message
      }
    } finally {
      this.#busy = false
    }
  }
}
