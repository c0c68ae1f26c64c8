import { DocumentStore, openDatabase } from '@botsync/persistence'
import { demoSeed, docName, setTextPublic, updateScenario } from '@botsync/shared-docs'
import * as Y from 'yjs'

/**
 * The demo content of `space` with the welcome text and the support scenario
 * public, stored as the server seeds: what the reader suites' Mini App
 * readers read (`<space>/public`) and their admin edits.
 */
export async function seedPublicSpace(databaseUrl: string, space: string): Promise<void> {
  const db = await openDatabase({ databaseUrl })
  try {
    const store = new DocumentStore(db)
    for (const [name, update] of demoSeed(space)) {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, update)
      const before = Y.encodeStateVector(doc)
      if (name === docName.settings(space)) setTextPublic(doc, 'welcome', true)
      if (name === docName.scenarios(space)) updateScenario(doc, 'support', { public: true })
      await store.append(name, update)
      const change = Y.encodeStateAsUpdate(doc, before)
      if (change.byteLength > 2) await store.append(name, change)
    }
    await store.flush()
  } finally {
    await db.close()
  }
}
