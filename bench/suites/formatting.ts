// Cost of turning a formatted message into Telegram's text + entities
// (shared-docs/src/formatting.ts), in-process: what the projection pays per
// message on every replica update and the bot per answer.
//
// The message is the worst Telegram allows: 4,096 UTF-16 code units
// (Cyrillic, emoji with skin tones, placeholders) with 200 entities of every
// kind, some nested, some overlapping, set through formatText on a Y.Text
// the way the admin sets them. Measured with performance.now():
// - `entitiesOfMs`: Y.Text → plain text + MessageEntity[] (the target);
// - `fillMs`: fillFormattedTemplate with three variables, emoji in them;
// - `setUnchangedMs`: setFormattedText with what the Y.Text already holds
//   (an import or restore of an unchanged message: compares, writes nothing).
import * as Y from 'yjs'
import { entitiesOf, fillFormattedTemplate, formatText, FORMAT_ATTRIBUTES, LIMITS, setFormattedText, type FormatAttributes } from '@botsync/shared-docs'
import { latencySummary } from '../lib/percentiles.ts'

const ENTITIES = 200
const SAMPLES = 5000
const WARMUP = 500
const TARGET_P99_MS = 1

function buildMessage(): Y.Text {
  const pieces = ['Привет, {name}! ', 'Your order 👍🏽 is ready. ', 'Code {code} works until {date}. ', 'Ёлки-палки 🎄🎁 ', 'plain ascii words here ']
  let text = ''
  for (let i = 0; text.length < LIMITS.messageText; i++) text += pieces[i % pieces.length]
  text = text.slice(0, LIMITS.messageText)
  // Never end on half an emoji.
  if (/[\uD800-\uDBFF]$/.test(text)) text = `${text.slice(0, -1)}x`
  const doc = new Y.Doc()
  const ytext = doc.getText('message')
  ytext.insert(0, text)
  const step = Math.floor(text.length / ENTITIES)
  for (let i = 0; i < ENTITIES; i++) {
    const type = FORMAT_ATTRIBUTES[i % FORMAT_ATTRIBUTES.length]
    const value = type === 'text_link' ? `https://example.com/${i}` : type === 'pre' ? (i % 2 === 0 ? 'ts' : true) : true
    // Every fifth entity reaches over the next one's start: overlapping and nested runs.
    const length = i % 5 === 0 ? step * 2 : Math.max(1, step - 4)
    formatText(ytext, i * step, length, { [type]: value } as FormatAttributes)
  }
  return ytext
}

function measure(samples: number, fn: () => void): number[] {
  for (let i = 0; i < WARMUP; i++) fn()
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const started = performance.now()
    fn()
    times.push(performance.now() - started)
  }
  return times
}

export default async function run(): Promise<Record<string, unknown>> {
  const ytext = buildMessage()
  const formatted = entitiesOf(ytext)
  if (formatted.text.length !== LIMITS.messageText) throw new Error(`the message is ${formatted.text.length} code units, not ${LIMITS.messageText}`)
  if (formatted.entities.length < ENTITIES) throw new Error(`only ${formatted.entities.length} entities`)
  const vars = { name: 'Zoë 👩🏽‍💻', code: 'ABC-123', date: '1 января' }

  const entitiesOfMs = latencySummary(measure(SAMPLES, () => entitiesOf(ytext)))
  const fillMs = latencySummary(measure(SAMPLES, () => fillFormattedTemplate(formatted.text, formatted.entities, vars)))
  let wrote = false
  ytext.doc!.on('update', () => (wrote = true))
  const setUnchangedMs = latencySummary(measure(SAMPLES / 5, () => setFormattedText(ytext, formatted.text, formatted.entities)))
  if (wrote) throw new Error('setFormattedText wrote an unchanged message')

  return {
    messageCodeUnits: formatted.text.length,
    entities: formatted.entities.length,
    deltaOps: ytext.toDelta().length,
    entitiesOfMs,
    fillMs,
    setUnchangedMs,
    targets: {
      entitiesOfP99Ms: {
        target: `entities of a 4,096-character message with ${ENTITIES} entities, p99 ≤ ${TARGET_P99_MS} ms`,
        limit: TARGET_P99_MS,
        value: entitiesOfMs.p99,
        met: entitiesOfMs.p99 <= TARGET_P99_MS,
      },
    },
  }
}
