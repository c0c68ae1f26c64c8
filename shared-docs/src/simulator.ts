// The chat simulator ("Try it") on the wire: what POST /api/spaces/:space/simulator
// and its message/press/reset routes answer. The server runs the bot's real
// ScenarioRunner against a recorder instead of Telegram; each answer lists
// the Bot API calls the runner made, in Telegram's own shapes where the
// admin draws them (text, entities, reply_markup).
import type { MediaKind, MessageEntity } from './types.ts'

/** Which content the simulated bot answers from: the drafts, or what the real bot answers from (the current release in review mode). */
export const SIMULATOR_SOURCES = ['drafts', 'release'] as const
export type SimulatorSource = (typeof SIMULATOR_SOURCES)[number]

export function isSimulatorSource(value: unknown): value is SimulatorSource {
  return typeof value === 'string' && (SIMULATOR_SOURCES as readonly string[]).includes(value)
}

/** A button of an inline keyboard as Telegram takes it (one of url, web_app, callback_data). */
export interface SimulatedInlineButton {
  text: string
  url?: string
  web_app?: { url: string }
  callback_data?: string
}

export interface SimulatedReplyButton {
  text: string
  web_app?: { url: string }
}

export type SimulatedMarkup = { inline_keyboard: SimulatedInlineButton[][] } | { keyboard: SimulatedReplyButton[][]; resize_keyboard?: boolean; one_time_keyboard?: boolean }

/** One message the simulated bot sent or edited. */
export interface SimulatedMessage {
  messageId: number
  /** The Bot API method: sendMessage, editMessageText, sendPhoto, sendMediaGroup, … */
  method: string
  /** The text, or the caption of a media message. */
  text: string
  entities: MessageEntity[]
  /** The media sent, when the method sends some (ids as the step names them, when known). */
  media?: { kind: MediaKind; id?: string }[]
  replyMarkup?: SimulatedMarkup
  /** False when the bot asked Telegram not to show a link preview. */
  linkPreview: boolean
}

/** What one simulated update made the bot do. */
export interface SimulatorAnswer {
  sent: SimulatedMessage[]
  edited: SimulatedMessage[]
  /** True when the bot answered the callback query of a pressed inline button. */
  answeredCallback?: boolean
}

/** POST /api/spaces/:space/simulator. */
export interface SimulatorSessionStart {
  source?: SimulatorSource
  /** "Start from this step": the session is placed there and the step is shown. */
  scenarioId?: string
  stepId?: string
}

export interface SimulatorSessionCreated extends SimulatorAnswer {
  id: string
  source: SimulatorSource
}

/** POST …/simulator/:id/press: an inline button of a message the simulated bot sent. */
export interface SimulatorPress {
  messageId: number
  buttonId?: string
  callbackData?: string
}

/** The simulator API's error codes (`{error, message}`). */
export const SIMULATOR_ERRORS = {
  sessionNotFound: 'simulator-session-not-found',
  tooManySessions: 'simulator-busy',
  invalidRequest: 'invalid-request',
  unavailable: 'simulator-unavailable',
} as const
