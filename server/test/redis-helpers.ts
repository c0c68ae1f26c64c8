import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import * as Y from 'yjs'
import { uniqueSpace } from '@botsync/testkit/server'

/** The shared Redis every engineer's tests use: never restart or flush it; touch only your own clients. */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379'

export function uniquePrefix(): string {
  return `test-${uniqueSpace()}`
}

/**
 * A Redis server of this test's own on a free port, so a test can stop and
 * restart Redis (or start instances before it exists) without disturbing
 * anybody sharing the machine's Redis.
 */
export class PrivateRedis {
  readonly port: number
  private child: ChildProcess | null = null

  private constructor(port: number) {
    this.port = port
  }

  static async create(): Promise<PrivateRedis> {
    return new PrivateRedis(await freePort())
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.child !== null
  }

  async start(): Promise<void> {
    if (this.child) return
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    const output: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output.join('')}`)), 10_000)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${output.join('')}`))
      })
      child.stdout!.on('data', (chunk) => {
        output.push(String(chunk))
        if (output.join('').includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
  }

  /** Stops the server the way an outage would: connections drop, nothing answers on the port. */
  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    this.child = null
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
}

/** Kills the connections of the shared Redis whose CLIENT SETNAME starts with `namePrefix`; returns how many. */
export async function killClients(admin: Redis, namePrefix: string): Promise<number> {
  const list = String(await admin.call('CLIENT', 'LIST'))
  let killed = 0
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(
      line
        .trim()
        .split(' ')
        .map((pair) => pair.split('=', 2)),
    )
    if (!fields.id || !fields.name?.startsWith(namePrefix)) continue
    killed += Number(await admin.call('CLIENT', 'KILL', 'ID', fields.id))
  }
  return killed
}

export interface Health {
  status: string
  checks: Record<string, { status: string; detail?: string }>
  fanout?: { published: number; dropped: number; received: number; syncRequests: number }
}

export async function health(baseUrl: string): Promise<{ httpStatus: number; body: Health }> {
  const response = await fetch(`${baseUrl}/health`)
  return { httpStatus: response.status, body: (await response.json()) as Health }
}

/** What makes two replicas "the same": equal state vectors and equal JSON (of what `project` reads). */
export function fingerprint(doc: Y.Doc, project: (doc: Y.Doc) => unknown): string {
  return `${Buffer.from(Y.encodeStateVector(doc)).toString('base64')}|${JSON.stringify(project(doc))}`
}

/** The log every load test appends to: `writer:index` entries. */
export function logOf(doc: Y.Doc): string[] {
  return doc.getArray<string>('log').toArray()
}

/** Checks that `entries` holds exactly `count` edits of each writer, each writer's in order. */
export function missingEdits(entries: string[], writers: string[], count: number): string[] {
  const problems: string[] = []
  if (new Set(entries).size !== entries.length) problems.push('duplicate entries')
  for (const writer of writers) {
    const own = entries.filter((entry) => entry.startsWith(`${writer}:`)).map((entry) => Number(entry.slice(writer.length + 1)))
    if (own.length !== count) problems.push(`${writer}: ${own.length} of ${count} edits`)
    else if (own.some((value, index) => value !== index)) problems.push(`${writer}: edits out of order`)
  }
  return problems
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
