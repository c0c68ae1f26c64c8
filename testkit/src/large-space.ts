// A large space (hundreds of scenarios), built the way the server stores
// content and planted straight into PostgreSQL. Shared by the `cold` bench
// (bench/suites/cold.ts) and the tests that check such a space is served
// whole (bot/test/large-space.test.ts).
//
// The documents are what the admin's edits would have made (shared-docs'
// own builders: createScenario, addStep, setButton, setSettingsText), with
// fixed client ids, so the same call always yields the same bytes (as
// shared-docs' seed.ts does for the demo). Each document is one row of
// `document_updates`, as the server's first append of a seeded document is;
// all rows go in with one multi-row INSERT, far faster than appending them
// one by one through a server.
import type { Queryable } from '@botsync/persistence'
import { addStep, createScenario, docName, setButton, setFlag, setSettingsText, spaceSkeleton } from '@botsync/shared-docs'
import * as Y from 'yjs'

/** Client id of the large space's content (the skeleton's is shared-docs' SEED_CLIENT_IDS.skeleton, the demo's 2). */
const LARGE_SPACE_CLIENT_ID = 17

export interface LargeSpaceOptions {
  scenarios: number
  stepsPerScenario: number
}

export interface LargeSpace {
  space: string
  /** Document name → Y.encodeStateAsUpdate, in the order they are planted. */
  documents: Map<string, Uint8Array>
  /** The settings' welcome text: the answer to /start. */
  welcome: string
  scenarioId(i: number): string
  stepId(i: number, j: number): string
  /** The command that starts scenario i (without the slash). */
  command(i: number): string
  /** The message of step j of scenario i. */
  message(i: number, j: number): string
  title(i: number): string
}

const scenarioId = (i: number): string => `sc${String(i).padStart(4, '0')}`
const stepId = (i: number, j: number): string => `st${String(i).padStart(4, '0')}x${j}`
const command = (i: number): string => `s${i}`
const title = (i: number): string => `Scenario ${i}`
const message = (i: number, j: number): string =>
  `Step ${j + 1} of scenario ${i}. Here the bot explains one more thing about the product, with a few words more so the message is the size of a real one.`

/**
 * `scenarios` scenarios of `stepsPerScenario` steps each: every scenario has
 * a command trigger (/s<i>), its steps chained by `next`, and its entry step
 * a keyboard with a "Continue" button to its second step (one button per
 * scenario in `<space>/buttons`), like a real bot's menus.
 */
export function largeSpace(space: string, options: LargeSpaceOptions): LargeSpace {
  const { scenarios, stepsPerScenario } = options
  const documents = spaceSkeleton(space)
  const make = (state?: Uint8Array): Y.Doc => {
    // A fixed guid: the default uuidv4 costs 31 crypto calls per doc, and these docs only build bytes.
    const doc = new Y.Doc({ guid: 'botsync-large-space' })
    if (state) Y.applyUpdate(doc, state)
    doc.clientID = LARGE_SPACE_CLIENT_ID
    return doc
  }
  const welcome = `Welcome! ${scenarios} scenarios to pick from.`
  const settings = make(documents.get(docName.settings(space)))
  setSettingsText(settings, 'welcome', welcome)
  setSettingsText(settings, 'fallback', 'Sorry, I did not get that. Send /start.')
  setSettingsText(settings, 'maintenance', 'Back soon.')
  setSettingsText(settings, 'inputInvalid', 'That does not look right. Please try again.')
  setFlag(settings, 'botEnabled', true)
  const buttons = make(documents.get(docName.buttons(space)))
  const index = make(documents.get(docName.scenarios(space)))
  const contents: [string, Uint8Array][] = []
  for (let i = 0; i < scenarios; i++) {
    const content = make()
    const hasNext = stepsPerScenario > 1
    if (hasNext) setButton(buttons, `go${i}`, { text: 'Continue', action: { type: 'goto', scenarioId: scenarioId(i), stepId: stepId(i, 1) } })
    createScenario(index, content, {
      id: scenarioId(i),
      title: title(i),
      enabled: true,
      order: i,
      trigger: { command: command(i) },
      firstStep: { id: stepId(i, 0), message: message(i, 0), keyboard: { kind: 'inline', rows: hasNext ? [[`go${i}`]] : [] }, next: hasNext ? stepId(i, 1) : null },
    })
    for (let j = 1; j < stepsPerScenario; j++) {
      addStep(content, { id: stepId(i, j), message: message(i, j), next: j + 1 < stepsPerScenario ? stepId(i, j + 1) : null })
    }
    contents.push([docName.scenario(space, scenarioId(i)), Y.encodeStateAsUpdate(content)])
  }
  documents.set(docName.settings(space), Y.encodeStateAsUpdate(settings))
  documents.set(docName.buttons(space), Y.encodeStateAsUpdate(buttons))
  documents.set(docName.scenarios(space), Y.encodeStateAsUpdate(index))
  for (const [name, state] of contents) documents.set(name, state)
  return { space, documents, welcome, scenarioId, stepId, command, message, title }
}

/**
 * Plants `large` into PostgreSQL: the space's row (a bot or an admin may only
 * read a space that exists) and one log row per document, in one statement.
 * The database must be migrated (a server started on it once, or openDatabase).
 */
export async function plantLargeSpace(db: Queryable, large: LargeSpace): Promise<void> {
  await db.query('INSERT INTO spaces (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING', [large.space])
  const names = [...large.documents.keys()]
  const updates = [...large.documents.values()].map((update) => Buffer.from(update.buffer, update.byteOffset, update.byteLength))
  await db.query(
    `INSERT INTO document_updates (name, update)
     SELECT n, u FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(n, u, k) ORDER BY k`,
    [names, updates],
  )
}
