// A public text or step as this reader reads it. The bot fills `{name}`
// with the user's first name and other variables with their answers in the
// chat; the page has no conversation, so `{name}` is the reader's first name
// and any other variable is hidden rather than shown raw. shared-docs'
// fillFormattedTemplate moves the entities with the text (UTF-16 offsets),
// so the bold around a name stays on the name.
import { fillFormattedTemplate, type FormattedText, type MessageEntity } from '@botsync/shared-docs'

export function readerText(text: string, entities: readonly MessageEntity[] | undefined, firstName: string | null): FormattedText {
  // No length limit: nothing is sent to Telegram, the page shows it whole.
  return fillFormattedTemplate(text, entities ?? [], firstName === null ? {} : { name: firstName }, Infinity, 'hide')
}
