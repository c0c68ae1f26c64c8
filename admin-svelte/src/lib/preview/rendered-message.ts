// What the preview draws: one message as Telegram shows it, from a step of
// the drafts (the live preview) or from what the simulated bot sent (the
// chat simulator). message-preview.svelte draws only this shape, so both
// paths look the same.
import {
  linkPreviewsEnabled,
  parseCallbackData,
  type ButtonActionType,
  type ButtonJson,
  type KeyboardKind,
  type MediaKind,
  type MessageEntity,
  type Problem,
  type SimulatedMessage,
  type StepJson,
} from '@botsync/shared-docs'

export interface PreviewButton {
  label: string
  /** The button's action type; 'missing' when the keyboard names a button that does not exist. */
  action: ButtonActionType | 'missing'
  /** The button's id, when known (the simulator presses by it). */
  buttonId?: string
  /** Raw callback data of a simulated inline button that is not one of ours. */
  callbackData?: string
}

export interface PreviewKeyboard {
  kind: KeyboardKind
  rows: PreviewButton[][]
}

export interface PreviewMedia {
  kind: MediaKind
  /** The media store's id (SHA-256 hex); absent when unknown (an upload in the simulator). */
  id?: string
}

export interface RenderedMessage {
  /** The text, or the caption of a media message. */
  text: string
  entities: readonly MessageEntity[]
  media: readonly PreviewMedia[]
  keyboard: PreviewKeyboard | null
  /** Telegram draws a link preview card (the space's linkPreviews switch). */
  linkPreview: boolean
  /** Validation problems of the message, shown on the bubble. */
  problems: readonly Pick<Problem, 'code' | 'message'>[]
}

/** A step of the drafts as the bot would send it, with its problems. */
export function messageOfStep(
  step: StepJson,
  buttons: Readonly<Record<string, ButtonJson>>,
  flags: Readonly<Record<string, boolean>>,
  problems: readonly Problem[],
): RenderedMessage {
  const rows = step.keyboard.rows
    .map((row) =>
      row.map((id): PreviewButton => {
        const button = Object.hasOwn(buttons, id) ? buttons[id] : undefined
        return button ? { label: button.text, action: button.action?.type ?? 'missing', buttonId: id } : { label: id, action: 'missing', buttonId: id }
      }),
    )
    .filter((row) => row.length > 0)
  return {
    text: step.message,
    entities: step.entities ?? [],
    media: step.media?.items.map((item) => ({ kind: item.kind, id: item.id })) ?? [],
    keyboard: rows.length > 0 ? { kind: step.keyboard.kind, rows } : null,
    linkPreview: linkPreviewsEnabled(flags),
    problems: problems.map(({ code, message }) => ({ code, message })),
  }
}

/** A message the simulated bot sent (Telegram's reply_markup turned back into labels and actions). */
export function messageOfSimulated(sent: SimulatedMessage): RenderedMessage {
  let keyboard: PreviewKeyboard | null = null
  const markup = sent.replyMarkup
  if (markup && 'inline_keyboard' in markup) {
    keyboard = {
      kind: 'inline',
      rows: markup.inline_keyboard.map((row) =>
        row.map((button): PreviewButton => {
          if (button.url !== undefined) return { label: button.text, action: 'url' }
          if (button.web_app !== undefined) return { label: button.text, action: 'web_app' }
          const buttonId = parseCallbackData(button.callback_data ?? '')
          return { label: button.text, action: 'callback', ...(buttonId ? { buttonId } : {}), callbackData: button.callback_data }
        }),
      ),
    }
  } else if (markup && 'keyboard' in markup) {
    keyboard = { kind: 'reply', rows: markup.keyboard.map((row) => row.map((button): PreviewButton => ({ label: button.text, action: button.web_app ? 'web_app' : 'goto' }))) }
  }
  return {
    text: sent.text,
    entities: sent.entities,
    media: sent.media ?? [],
    keyboard,
    linkPreview: sent.linkPreview,
    problems: [],
  }
}
