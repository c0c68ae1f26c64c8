import { fillFormattedTemplate, LIMITS, usableEntities, type FormattedText, type MessageEntity } from '@botsync/shared-docs'

/**
 * Fills `{name}` placeholders from the user's answers. A placeholder without
 * an answer stays as written, so an admin sees the mistake instead of a
 * silently missing word. The result is cut to Telegram's message limit.
 */
export function fillTemplate(text: string, vars: Readonly<Record<string, string>>): string {
  return fillFormattedTemplate(text, [], vars).text
}

/**
 * A formatted message as sent: the placeholders filled with the entities
 * moved along (shared-docs' fillFormattedTemplate), then only the entities
 * Telegram accepts (a link with a URL it would refuse is left out, so the
 * message still goes, without that link). A media message's caption is cut
 * at LIMITS.caption instead of the text limit.
 */
export function fillMessage(
  text: string,
  entities: readonly MessageEntity[] | undefined,
  vars: Readonly<Record<string, string>>,
  limit: number = LIMITS.messageText,
): FormattedText {
  const filled = fillFormattedTemplate(text, entities ?? [], vars, limit)
  return { text: filled.text, entities: usableEntities(filled.text, filled.entities) }
}
