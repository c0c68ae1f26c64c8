// Admins in a worker thread (bench/suites/cold.ts): each admin is what a
// browser tab of the admin holds, one multiplexed socket
// (HocuspocusProviderWebsocket) with a real HocuspocusProvider per open
// document. The threads keep the clients' own Yjs work off the bench's main
// thread, which only reads the server's memory and collects figures.
//
// Messages from the parent:
//   { type: 'open', admins: AdminSpec[] }  → { type: 'opened', count }
//   { type: 'edit', warmupMs, durationMs } → { type: 'edited', latencies, edits }
//     every admin with an `edit` types one character at a time into its step's
//     message, the next as soon as the server acknowledged the last
//     (unsyncedChanges back to 0: committed to PostgreSQL); latencies are
//     edit → acknowledgement, in ms, after the warm-up;
//   { type: 'close', ids: number[] }       → { type: 'closed', count }
import { parentPort, workerData } from 'node:worker_threads'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { getStepMessage } from '@botsync/shared-docs'
import * as Y from 'yjs'

export interface AdminSpec {
  id: number
  /** Document names this admin has open. */
  documents: string[]
  /** The step this admin edits: a scenario document among `documents` and a step of it. */
  edit?: { document: string; stepId: string }
}

export type AdminWorkerMessage = { type: 'open'; admins: AdminSpec[] } | { type: 'edit'; warmupMs: number; durationMs: number } | { type: 'close'; ids: number[] }

interface Admin {
  spec: AdminSpec
  socket: HocuspocusProviderWebsocket
  providers: Map<string, HocuspocusProvider>
}

const { url, token } = workerData as { url: string; token: string }
const admins = new Map<number, Admin>()

function whenSynced(provider: HocuspocusProvider): Promise<void> {
  if (provider.isSynced) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${provider.configuration.name}: not synced within 180 s`)), 180_000)
    provider.on('synced', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

async function open(spec: AdminSpec): Promise<void> {
  const socket = new HocuspocusProviderWebsocket({ url, minDelay: 100, maxDelay: 1000 })
  const providers = new Map<string, HocuspocusProvider>()
  for (const name of spec.documents) {
    const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: new Y.Doc(), token })
    provider.attach()
    providers.set(name, provider)
  }
  admins.set(spec.id, { spec, socket, providers })
  await Promise.all([...providers.values()].map(whenSynced))
}

function acknowledged(provider: HocuspocusProvider): Promise<void> {
  if (provider.unsyncedChanges === 0) return Promise.resolve()
  return new Promise((resolve) => {
    const onChange = ({ number }: { number: number }) => {
      if (number !== 0) return
      provider.off('unsyncedChanges', onChange)
      resolve()
    }
    provider.on('unsyncedChanges', onChange)
  })
}

async function editLoop(admin: Admin, measureFrom: number, until: number, latencies: number[]): Promise<number> {
  const { document, stepId } = admin.spec.edit!
  const provider = admin.providers.get(document)!
  const message = getStepMessage(provider.document, stepId)
  if (!message) throw new Error(`${document} has no step ${stepId}`)
  let edits = 0
  while (performance.now() < until) {
    const started = performance.now()
    message.insert(message.length, String.fromCharCode(97 + (edits % 26)))
    await acknowledged(provider)
    if (started >= measureFrom) latencies.push(performance.now() - started)
    edits++
  }
  return edits
}

parentPort!.on('message', async (message: AdminWorkerMessage) => {
  if (message.type === 'open') {
    await Promise.all(message.admins.map(open))
    parentPort!.postMessage({ type: 'opened', count: admins.size })
  } else if (message.type === 'edit') {
    const now = performance.now()
    const latencies: number[] = []
    const editing = [...admins.values()].filter((admin) => admin.spec.edit)
    const counts = await Promise.all(editing.map((admin) => editLoop(admin, now + message.warmupMs, now + message.warmupMs + message.durationMs, latencies)))
    parentPort!.postMessage({ type: 'edited', latencies, edits: counts.reduce((a, b) => a + b, 0) })
  } else if (message.type === 'close') {
    for (const id of message.ids) {
      const admin = admins.get(id)
      if (!admin) continue
      for (const provider of admin.providers.values()) provider.destroy()
      admin.socket.destroy()
      admins.delete(id)
    }
    parentPort!.postMessage({ type: 'closed', count: admins.size })
  }
})
