import type { DocumentStore } from '@botsync/persistence'
import { demoSeed } from '@botsync/shared-docs'

/**
 * Stores the demo space's documents that do not exist yet. Seeding happens on
 * the server only: the seed is deterministic (fixed clientID), so two
 * instances seeding at once write the same structs and Yjs merges them as one.
 */
export async function seedDemoSpace(store: DocumentStore, space = 'demo'): Promise<string[]> {
  const seeded: string[] = []
  for (const [name, update] of demoSeed(space)) {
    if (await store.exists(name)) continue
    await store.append(name, update)
    seeded.push(name)
  }
  return seeded
}
