import type { WritePlan } from '@botsync/shared-docs'
import type { ServerWriter } from './server-writer.ts'

/**
 * Runs a shared-docs write plan (an import, a restore through the API)
 * through the ServerWriter, phase after phase, the writes of one phase at
 * once, each stored as `authorId`'s update (history names them). Returns
 * the kinds of the documents that changed ('settings', 'scenario/<id>', …);
 * a document that already held its content gets no update.
 */
export async function runWritePlan(writer: Pick<ServerWriter, 'change'>, plan: WritePlan, authorId: string): Promise<string[]> {
  const changed: string[] = []
  for (const phase of plan) {
    const written = await Promise.all(phase.map(async (write) => ((await writer.change(write.name, write.write, { authorId })) === null ? null : write.kind)))
    changed.push(...written.filter((kind): kind is string => kind !== null))
  }
  return changed
}
