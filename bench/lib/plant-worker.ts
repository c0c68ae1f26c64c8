// Generates and plants a long update log in its own thread (bench/suites/
// longlog.ts), so a million generated updates never sit in the heap of the
// thread whose event loop the benchmark measures.
import { parentPort, workerData } from 'node:worker_threads'
import { PgDatabase } from '@botsync/persistence'
import { plantLog, typingSession } from '@botsync/testkit/planted-log'

const { databaseUrl, name, count } = workerData as { databaseUrl: string; name: string; count: number }
const generated = performance.now()
const { updates, doc } = typingSession(count)
const planted = performance.now()
const db = new PgDatabase(databaseUrl, { max: 1 })
try {
  await plantLog(db, name, updates)
} finally {
  await db.close()
}
parentPort!.postMessage({
  text: doc.getText('message').toString(),
  bytes: updates.reduce((sum, update) => sum + update.byteLength, 0),
  generateMs: planted - generated,
  plantMs: performance.now() - planted,
})
