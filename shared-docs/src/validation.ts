// Validation of a projected space against Telegram's limits and against
// dangling references. Nothing here throws: it returns problems with paths,
// which the admin shows inline and the bot uses (problemsFor / isEntityValid)
// to skip just the broken entity instead of failing the whole space.
import { COMMAND_PATTERN, DEEP_LINK_PATTERN, INPUT_VAR_PATTERN, LIMITS, callbackDataFor, textLength, utf8Length } from './limits.ts'
import { sortScenarios } from './projection.ts'
import type { ButtonAction, ButtonJson, KeyboardKind, MessageEntity, ScenarioIndexEntry, ScenarioJson, SettingsJson, SpaceJson, StepJson } from './types.ts'
import { ALBUM_KINDS, INPUT_KINDS, MESSAGE_ENTITY_TYPES } from './types.ts'
import { isMiniAppReference } from './web-app-url.ts'
import { mediaByteLimit } from './media.ts'
import { MEDIA_ID_PATTERN } from './scenario.ts'

export interface Problem {
  /** 'settings' | 'buttons' | 'scenarios' | 'scenario/<id>' (the name without the space). */
  document: string
  /** From the document's root map, e.g. ['buttons', 'b1', 'action', 'data']. */
  path: string[]
  /** Stable machine code, e.g. 'callback-data-too-long'. */
  code: string
  /** For humans. */
  message: string
}

export function scenarioDocument(scenarioId: string): string {
  return `scenario/${scenarioId}`
}

/** Path prefixes of the entities the bot may want to skip. */
export const entityPath = {
  button: (buttonId: string): string[] => ['buttons', buttonId],
  scenarioEntry: (scenarioId: string): string[] => ['scenarios', scenarioId],
  step: (stepId: string): string[] => ['scenario', 'steps', stepId],
  stepMedia: (stepId: string): string[] => ['scenario', 'steps', stepId, 'media'],
  settingsText: (key: string): string[] => ['settings', 'texts', key],
  settingsTextEntities: (key: string): string[] => ['settings', 'textEntities', key],
  mainMenu: (): string[] => ['settings', 'mainMenu'],
}

/** The problems of `document` whose path starts with `pathPrefix`. */
export function problemsFor(problems: readonly Problem[], document: string, pathPrefix: readonly string[] = []): Problem[] {
  return problems.filter((p) => p.document === document && pathPrefix.length <= p.path.length && pathPrefix.every((part, i) => p.path[i] === part))
}

export function isEntityValid(problems: readonly Problem[], document: string, pathPrefix: readonly string[] = []): boolean {
  return problemsFor(problems, document, pathPrefix).length === 0
}

function problem(document: string, path: string[], code: string, message: string): Problem {
  return { document, path, code, message }
}

/**
 * Message texts: non-blank (Telegram refuses whitespace-only text) and ≤ 4096,
 * counted on the plain text: formatting travels as entities, not markup, so
 * the plain text is what Telegram counts.
 */
export function validateMessageText(text: string, document: string, path: string[]): Problem[] {
  if (text.trim() === '') return [problem(document, path, 'message-empty', 'Message text is empty.')]
  const length = textLength(text)
  if (length > LIMITS.messageText) {
    return [problem(document, path, 'message-too-long', `Message text is ${length} characters; Telegram allows at most ${LIMITS.messageText}.`)]
  }
  return []
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0

/**
 * One formatting entity of `text`: a known kind, a non-empty range inside
 * the text (UTF-16 code units, as Telegram counts offsets), and for a
 * text_link a URL Telegram opens (http, https or tg). `path` is the
 * entity's own, e.g. [..., 'entities', '3'].
 */
export function validateEntity(text: string, entity: MessageEntity, document: string, path: string[]): Problem[] {
  if (!(MESSAGE_ENTITY_TYPES as readonly unknown[]).includes(entity.type)) {
    return [problem(document, [...path, 'type'], 'entity-type-unknown', `Unknown formatting "${String(entity.type)}".`)]
  }
  if (!isCount(entity.offset) || !isCount(entity.length) || entity.length === 0) {
    return [problem(document, path, 'entity-range-invalid', 'Formatting must cover at least one character, from a whole-number offset.')]
  }
  if (entity.offset + entity.length > textLength(text)) {
    return [problem(document, path, 'entity-out-of-range', `Formatting ends at ${entity.offset + entity.length}, beyond the end of the text (${textLength(text)} characters).`)]
  }
  if (entity.type === 'text_link') {
    if (typeof entity.url !== 'string') return [problem(document, [...path, 'url'], 'text-link-url-not-allowed', 'A link needs a URL.')]
    return checkUrl(entity.url, ['http', 'https', 'tg'], document, [...path, 'url'], 'text-link-url-not-allowed')
  }
  return []
}

/** A message's entities; `path` is the list's, e.g. ['scenario', 'steps', id, 'entities']. */
export function validateEntities(text: string, entities: readonly MessageEntity[], document: string, path: string[]): Problem[] {
  return entities.flatMap((entity, i) => validateEntity(text, entity, document, [...path, String(i)]))
}

/**
 * The entities Telegram will accept for `text`: those validateEntity finds
 * nothing wrong with. The bot sends the message with the rest, so a broken
 * link loses its link, not the whole message.
 */
export function usableEntities(text: string, entities: readonly MessageEntity[]): MessageEntity[] {
  return entities.filter((entity) => validateEntity(text, entity, '', []).length === 0)
}

/** Checks a URL's syntax and scheme; `schemes` without the colon. */
function checkUrl(
  url: string,
  schemes: readonly string[],
  document: string,
  path: string[],
  code: string,
  schemeMessage = `URL must start with ${schemes.map((s) => `${s}://`).join(', ')}.`,
): Problem[] {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined || !schemes.includes(scheme)) {
    return [problem(document, path, code, schemeMessage)]
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return [problem(document, path, 'url-invalid', 'URL is not a valid address.')]
  }
  // `new URL` forgives surrounding spaces, Telegram does not.
  if (url !== url.trim() || /\s/.test(url) || ((scheme === 'http' || scheme === 'https') && parsed.hostname === '')) {
    return [problem(document, path, 'url-invalid', 'URL is not a valid address.')]
  }
  return []
}

/**
 * Stands in for MINIAPP_URL, which validation does not know (the bot does):
 * a relative reference is usable when resolving it keeps the Mini App's host,
 * whatever that host turns out to be.
 */
const MINI_APP_BASE = new URL('https://miniapp.invalid/app/')

/** An https URL, or a relative reference to a page of the bot's own Mini App (see web-app-url.ts). */
function checkWebAppUrl(url: string, document: string, path: string[]): Problem[] {
  if (!isMiniAppReference(url)) {
    return checkUrl(url, ['https'], document, path, 'web-app-url-not-https', "URL must start with https://, or be a page of this bot's Mini App such as /miniapp.")
  }
  // URL parsing drops tabs and newlines anywhere and controls at the start,
  // which could turn "/\t/host" into "//host"; Telegram would refuse them anyway.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return [problem(document, path, 'url-invalid', 'URL is not a valid address.')]
  if (url.startsWith('?') || url.startsWith('#')) {
    return [problem(document, path, 'url-invalid', "A page of this bot's Mini App must start with / or a page name, such as /miniapp#faq or miniapp?startapp=x.")]
  }
  let resolved: URL
  try {
    resolved = new URL(url, MINI_APP_BASE)
  } catch {
    return [problem(document, path, 'url-invalid', 'URL is not a valid address.')]
  }
  // "//host/…", and for an https base also "\\host", "/\host" and "///host",
  // name another host without a scheme.
  if (resolved.origin !== MINI_APP_BASE.origin) {
    return [
      problem(
        document,
        path,
        'web-app-url-protocol-relative',
        "URL names another host without https://; write https://… for another site, or start with a single / for a page of this bot's Mini App.",
      ),
    ]
  }
  return []
}

function validateAction(id: string, action: ButtonAction, space: SpaceJson | undefined): Problem[] {
  const doc = 'buttons'
  const base = ['buttons', id, 'action']
  switch (action.type) {
    case 'url':
      return checkUrl(action.url, ['http', 'https', 'tg'], doc, [...base, 'url'], 'url-scheme-not-allowed')
    case 'web_app':
      return checkWebAppUrl(action.url, doc, [...base, 'url'])
    case 'callback': {
      const bytes = utf8Length(action.data)
      if (bytes === 0) return [problem(doc, [...base, 'data'], 'callback-data-empty', 'Callback data is empty.')]
      if (bytes > LIMITS.callbackDataBytes) {
        return [problem(doc, [...base, 'data'], 'callback-data-too-long', `Callback data is ${bytes} bytes; Telegram allows at most ${LIMITS.callbackDataBytes}.`)]
      }
      return []
    }
    case 'goto': {
      if (!space) return []
      if (!Object.hasOwn(space.scenarios, action.scenarioId)) {
        return [problem(doc, [...base, 'scenarioId'], 'goto-scenario-missing', 'Button goes to a scenario that was deleted.')]
      }
      const content = space.scenarioDocs[action.scenarioId]
      // Without the content we cannot tell; 'scenario-document-missing' says so.
      if (action.stepId !== undefined && content && !Object.hasOwn(content.steps, action.stepId)) {
        return [
          problem(
            doc,
            [...base, 'stepId'],
            'goto-step-missing',
            `Button goes to a step that was deleted from "${space.scenarios[action.scenarioId].title || 'Untitled scenario'}".`,
          ),
        ]
      }
      return []
    }
    case 'back':
    case 'end':
      return []
  }
}

/** One button; reference checks need `space`, and are skipped without it. */
export function validateButton(id: string, button: ButtonJson, space?: SpaceJson): Problem[] {
  const doc = 'buttons'
  const problems: Problem[] = []
  const callbackBytes = utf8Length(callbackDataFor(id))
  if (callbackBytes > LIMITS.callbackDataBytes) {
    problems.push(
      problem(doc, ['buttons', id], 'callback-data-too-long', `The button id makes callback data of ${callbackBytes} bytes; Telegram allows at most ${LIMITS.callbackDataBytes}.`),
    )
  }
  if (button.text.trim() === '') {
    problems.push(problem(doc, ['buttons', id, 'text'], 'button-text-empty', 'Button text is empty.'))
  } else if (textLength(button.text) > LIMITS.buttonText) {
    problems.push(problem(doc, ['buttons', id, 'text'], 'button-text-too-long', `Button text is ${textLength(button.text)} characters; at most ${LIMITS.buttonText} are allowed.`))
  }
  if (button.action === null) {
    problems.push(problem(doc, ['buttons', id, 'action'], 'action-invalid', 'Button has no valid action.'))
  } else {
    problems.push(...validateAction(id, button.action, space))
  }
  return problems
}

/**
 * Shape and references of a keyboard given as rows of button ids.
 * `buttons` (when known) enables the missing-button and per-action checks.
 */
export function validateKeyboard(rows: readonly (readonly string[])[], kind: KeyboardKind, document: string, rowsPath: string[], buttons?: Record<string, ButtonJson>): Problem[] {
  const problems: Problem[] = []
  const perRow = kind === 'inline' ? LIMITS.inlineButtonsPerRow : LIMITS.replyButtonsPerRow
  let total = 0
  rows.forEach((row, r) => {
    total += row.length
    if (row.length > perRow) {
      problems.push(
        problem(
          document,
          [...rowsPath, String(r)],
          'keyboard-row-too-long',
          `Row ${r + 1} has ${row.length} buttons; Telegram allows at most ${perRow} per row in a ${kind} keyboard.`,
        ),
      )
    }
    row.forEach((buttonId, c) => {
      const path = [...rowsPath, String(r), String(c)]
      if (!buttons) return
      const button = Object.hasOwn(buttons, buttonId) ? buttons[buttonId] : undefined
      if (!button) {
        problems.push(problem(document, path, 'keyboard-button-missing', `Button "${buttonId}" does not exist.`))
        return
      }
      const type = button.action?.type
      if (kind === 'reply' && type === 'url') {
        problems.push(problem(document, path, 'keyboard-button-unsupported', `Button "${buttonId}" opens a URL, which only works in an inline keyboard.`))
      }
      if (kind === 'inline' && type !== 'url' && type !== 'web_app') {
        const bytes = utf8Length(callbackDataFor(buttonId))
        if (bytes > LIMITS.callbackDataBytes) {
          problems.push(
            problem(document, path, 'callback-data-too-long', `Callback data for button "${buttonId}" is ${bytes} bytes; Telegram allows at most ${LIMITS.callbackDataBytes}.`),
          )
        }
      }
    })
  })
  if (kind === 'inline' && total > LIMITS.inlineButtonsTotal) {
    problems.push(
      problem(document, rowsPath, 'keyboard-too-many-buttons', `Keyboard has ${total} buttons; Telegram allows at most ${LIMITS.inlineButtonsTotal} in an inline keyboard.`),
    )
  }
  return problems
}

/** Settings texts are sent as messages; the main menu is an inline keyboard. */
export function validateSettings(settings: SettingsJson, space?: SpaceJson): Problem[] {
  const problems: Problem[] = []
  for (const [key, text] of Object.entries(settings.texts)) {
    problems.push(...validateMessageText(text, 'settings', entityPath.settingsText(key)))
  }
  for (const [key, entities] of Object.entries(settings.textEntities ?? {})) {
    const text = Object.hasOwn(settings.texts, key) ? settings.texts[key] : ''
    problems.push(...validateEntities(text, entities, 'settings', entityPath.settingsTextEntities(key)))
  }
  problems.push(...validateKeyboard(settings.mainMenu, 'inline', 'settings', entityPath.mainMenu(), space?.buttons))
  return problems
}

/** Trigger formats of one index entry. */
export function validateScenarioEntry(scenarioId: string, entry: ScenarioIndexEntry): Problem[] {
  const problems: Problem[] = []
  const base = ['scenarios', scenarioId, 'trigger']
  const { command, deepLink } = entry.trigger
  if (command !== undefined && !COMMAND_PATTERN.test(command)) {
    problems.push(problem('scenarios', [...base, 'command'], 'command-invalid', 'Command must be 1–32 characters of a–z, 0–9 and _, without the slash.'))
  }
  if (deepLink !== undefined && !DEEP_LINK_PATTERN.test(deepLink)) {
    problems.push(problem('scenarios', [...base, 'deepLink'], 'deep-link-invalid', 'Deep-link payload must be 1–64 characters of A–Z, a–z, 0–9, _ and -.'))
  }
  return problems
}

/**
 * A media message's caption: may be empty, at most LIMITS.caption (1024)
 * characters of plain text (formatting travels as entities, as for texts).
 */
export function validateCaption(text: string, document: string, path: string[]): Problem[] {
  const length = textLength(text)
  if (length > LIMITS.caption) {
    return [problem(document, path, 'caption-too-long', `Caption is ${length} characters; Telegram allows at most ${LIMITS.caption} under a photo, video or file.`)]
  }
  return []
}

/**
 * A step's media: one item of any kind, or an album (sendMediaGroup) of
 * LIMITS.albumMin–albumMax photos and videos, which carries no keyboard
 * (Telegram's sendMediaGroup has no reply_markup, and sending the keyboard
 * in a message of its own would be a different step). With `space`, every
 * item must be in the space's media library (`media-missing`), sendable as
 * the kind the step names (any file goes as a document; otherwise the kind
 * must be the file's own) and within Telegram's upload size for that kind.
 */
export function validateStepMedia(step: StepJson, document: string, space?: SpaceJson): Problem[] {
  const items = step.media?.items ?? []
  if (items.length === 0) return []
  const base = entityPath.stepMedia(step.id)
  const problems: Problem[] = []
  const album = items.length > 1
  if (items.length > LIMITS.albumMax) {
    problems.push(problem(document, base, 'album-too-large', `An album has ${items.length} items; Telegram allows ${LIMITS.albumMin}–${LIMITS.albumMax}.`))
  }
  if (album && step.keyboard.rows.some((row) => row.length > 0)) {
    problems.push(
      problem(
        document,
        [...entityPath.step(step.id), 'keyboard'],
        'album-keyboard',
        'An album cannot carry buttons: Telegram sends albums without a keyboard. Remove the buttons or use a single item.',
      ),
    )
  }
  items.forEach((item, i) => {
    const path = [...base, 'items', String(i)]
    if (album && !ALBUM_KINDS.includes(item.kind)) {
      problems.push(problem(document, [...path, 'kind'], 'album-kind-not-allowed', `An album may hold only photos and videos; item ${i + 1} is sent as ${articled(item.kind)}.`))
    }
    if (!MEDIA_ID_PATTERN.test(item.id)) {
      problems.push(problem(document, [...path, 'id'], 'media-id-invalid', `Item ${i + 1} does not name a stored file.`))
      return
    }
    if (!space) return
    const info = space.media && Object.hasOwn(space.media, item.id) ? space.media[item.id] : undefined
    if (!info) {
      problems.push(problem(document, [...path, 'id'], 'media-missing', `The file of item ${i + 1} is not in this space's media library; upload it again.`))
      return
    }
    if (item.kind !== info.kind && item.kind !== 'document') {
      problems.push(
        problem(
          document,
          [...path, 'kind'],
          'media-kind-mismatch',
          `"${info.name}" is ${articled(info.kind)}; it can be sent as ${articled(info.kind)} or as a document, not as ${articled(item.kind)}.`,
        ),
      )
    }
    if (item.kind === 'photo' && info.width !== undefined && info.height !== undefined && !photoFits(info.width, info.height)) {
      problems.push(
        problem(
          document,
          [...path, 'id'],
          'photo-dimensions-invalid',
          `"${info.name}" is ${info.width} × ${info.height} pixels; Telegram takes photos whose sides add up to at most ${LIMITS.photoDimensionsSum} and neither is more than ${LIMITS.photoAspectRatio} times the other. Send it as a document.`,
        ),
      )
    }
    const limit = mediaByteLimit(item.kind)
    if (info.bytes > limit) {
      problems.push(
        problem(
          document,
          [...path, 'id'],
          'media-too-large',
          `"${info.name}" is ${info.bytes} bytes; a bot may upload ${articled(item.kind)} of at most ${limit / (1024 * 1024)} MB.`,
        ),
      )
    }
  })
  return problems
}

function photoFits(width: number, height: number): boolean {
  return width + height <= LIMITS.photoDimensionsSum && Math.max(width, height) <= LIMITS.photoAspectRatio * Math.max(1, Math.min(width, height))
}

function articled(kind: string): string {
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`
}

/** One step of a scenario; `scenario` resolves `next`, `space` resolves buttons and media. */
export function validateStep(scenarioId: string, step: StepJson, scenario: ScenarioJson, space?: SpaceJson): Problem[] {
  const doc = scenarioDocument(scenarioId)
  const base = entityPath.step(step.id)
  // With media the message is the caption: it may be empty, and has a lower limit.
  const problems = step.media ? validateCaption(step.message, doc, [...base, 'message']) : validateMessageText(step.message, doc, [...base, 'message'])
  problems.push(...validateStepMedia(step, doc, space))
  if (step.title !== undefined && step.title.length > LIMITS.stepTitle) {
    problems.push(problem(doc, [...base, 'title'], 'step-title-too-long', `The step's title is ${step.title.length} characters; keep it to ${LIMITS.stepTitle}.`))
  }
  if (step.entities) problems.push(...validateEntities(step.message, step.entities, doc, [...base, 'entities']))
  problems.push(...validateKeyboard(step.keyboard.rows, step.keyboard.kind, doc, [...base, 'keyboard', 'rows'], space?.buttons))
  if (step.input) {
    if (!INPUT_VAR_PATTERN.test(step.input.var)) {
      problems.push(problem(doc, [...base, 'input', 'var'], 'input-var-invalid', 'Variable name must start with a letter or _, then up to 31 letters, digits or _.'))
    }
    if (!INPUT_KINDS.includes(step.input.kind)) {
      problems.push(problem(doc, [...base, 'input', 'kind'], 'input-kind-invalid', `Unknown input kind "${step.input.kind}".`))
    }
  }
  if (step.next !== null && !Object.hasOwn(scenario.steps, step.next)) {
    problems.push(problem(doc, [...base, 'next'], 'next-step-missing', 'The next step was deleted: pick another, or none.'))
  }
  return problems
}

/** A scenario's content: its entry step and every step. */
export function validateScenario(scenarioId: string, scenario: ScenarioJson, space?: SpaceJson): Problem[] {
  const doc = scenarioDocument(scenarioId)
  const problems: Problem[] = []
  if (!Object.hasOwn(scenario.steps, scenario.entryStepId)) {
    problems.push(
      problem(doc, ['scenario', 'entryStepId'], 'entry-step-missing', scenario.entryStepId === '' ? 'Scenario has no entry step.' : 'The entry step was deleted: pick another.'),
    )
  }
  // Every step once, in display order; steps a hand-built stepOrder forgot are checked too.
  const ids = new Set([...scenario.stepOrder.filter((id) => Object.hasOwn(scenario.steps, id)), ...Object.keys(scenario.steps)])
  for (const id of ids) problems.push(...validateStep(scenarioId, scenario.steps[id], scenario, space))
  return problems
}

/** Every problem of the space. Only scenarios in the index are checked. */
export function validateSpace(space: SpaceJson): Problem[] {
  const problems = validateSettings(space.settings, space)
  for (const [id, button] of Object.entries(space.buttons)) problems.push(...validateButton(id, button, space))
  // Triggers must be unambiguous among enabled scenarios: the first in index
  // order keeps it, later ones are reported (and skipped by the bot).
  const claimed = new Map<string, string>()
  for (const entry of sortScenarios(space.scenarios)) {
    problems.push(...validateScenarioEntry(entry.id, entry))
    if (entry.enabled) {
      for (const [key, value] of Object.entries(entry.trigger)) {
        if (value === undefined) continue
        const owner = claimed.get(`${key}\u0000${value}`)
        if (owner === undefined) claimed.set(`${key}\u0000${value}`, entry.id)
        else {
          problems.push(problem('scenarios', ['scenarios', entry.id, 'trigger', key], 'trigger-duplicate', `Scenario "${owner}" already uses this ${key} trigger.`))
        }
      }
    }
    const content = Object.hasOwn(space.scenarioDocs, entry.id) ? space.scenarioDocs[entry.id] : undefined
    if (content) problems.push(...validateScenario(entry.id, content, space))
    else {
      problems.push(problem(scenarioDocument(entry.id), ['scenario'], 'scenario-document-missing', `The content of scenario "${entry.id}" is not available.`))
    }
  }
  return problems
}
