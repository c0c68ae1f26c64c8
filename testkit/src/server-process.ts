// @botsync/testkit/server-process: a server under test as its own OS process,
// the one way the tests and the benchmarks start one (crash tests, many
// instances, the benchmarks' servers, the vanilla Hocuspocus baselines).
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'

/** The botsync server's entry point (server/src/main.ts), found through its package. */
export const SERVER_MAIN = createRequire(import.meta.url).resolve('@botsync/server/main')

/** Every child started here; killed when this process exits, however it exits. */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export type ServerEvent = Record<string, unknown> & { event?: string }

export interface SpawnOptions {
  /** The script node runs. Default: the botsync server (SERVER_MAIN). */
  entry?: string
  /** Environment on top of this process's own. */
  env?: Record<string, string>
  /** Flags for node itself, before the script (`--cpu-prof`, `--trace-gc`: not all are allowed in NODE_OPTIONS). */
  nodeArgs?: string[]
  /** Names the process in error messages. Default: `server`. */
  label?: string
  /** How long to wait for the listening line. Default: 30 s. */
  timeoutMs?: number
  /** How many lines of output (stdout and stderr) `output` keeps, the latest. Default: all. */
  keepLines?: number
  /**
   * Hands "kill this process" to a cleanup registry (the benchmarks'
   * onInterrupt, so that on Ctrl-C a server dies before the schema it uses
   * is dropped); returns how to take it back, called once the process exited.
   */
  registerKill?: (kill: () => Promise<void>) => () => void
}

/**
 * A server in its own OS process. It must print one JSON line
 * `{"event":"listening","port":N}` on stdout when ready; every JSON line on
 * stdout is offered to event listeners (the vanilla server reports its
 * debounced stores that way), and every line of output is kept in `output`.
 */
export class ServerProcess {
  readonly label: string
  readonly child: ChildProcess
  /** Resolves with the exit code, or the signal that ended the process. */
  readonly exited: Promise<number | NodeJS.Signals | null>
  /** Lines the process printed (stdout and stderr, as they came), the last `keepLines` of them. */
  readonly output: string[] = []
  port = 0
  private readonly keepLines: number
  private readonly listeners = new Set<(event: ServerEvent) => void>()

  private constructor(options: SpawnOptions) {
    this.label = options.label ?? 'server'
    this.keepLines = options.keepLines ?? Infinity
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry ?? SERVER_MAIN], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    running.add(this.child)
    const forgetKill = options.registerKill?.(() => this.kill())
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        running.delete(this.child)
        forgetKill?.()
        resolve(code ?? signal)
      }),
    )
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.remember(line))
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line))
  }

  /** Starts the process and resolves once it listens; on failure kills it and rejects with its output. */
  static async spawn(options: SpawnOptions = {}): Promise<ServerProcess> {
    const server = new ServerProcess(options)
    try {
      const listening = await Promise.race([
        server.waitForEvent((event) => event.event === 'listening' && typeof event.port === 'number', 'the listening line', options.timeoutMs ?? 30_000),
        server.exited.then((code) => {
          throw new Error(`exited (${code}) before listening`)
        }),
      ])
      server.port = listening.port as number
      return server
    } catch (error) {
      server.child.kill('SIGKILL')
      throw new Error(`${server.label} did not start: ${(error as Error).message}\n${server.recentOutput()}`, { cause: error })
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** botsync's collaboration endpoint on this process. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/collab`
  }

  /** Resolves with the first JSON event matching `accept`, or rejects after timeoutMs. */
  waitForEvent(accept: (event: ServerEvent) => boolean, what: string, timeoutMs: number): Promise<ServerEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener)
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      const listener = (event: ServerEvent) => {
        if (!accept(event)) return
        clearTimeout(timer)
        this.listeners.delete(listener)
        resolve(event)
      }
      this.listeners.add(listener)
    })
  }

  /** Calls `listener` with every JSON event until the returned function is called. */
  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** SIGKILL: no chance to flush anything. Resolves once the process is gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL')
    await this.exited
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  recentOutput(): string {
    return this.output.join('\n')
  }

  private remember(line: string): void {
    this.output.push(line)
    if (this.output.length > this.keepLines) this.output.shift()
  }

  private onLine(line: string): void {
    this.remember(line)
    if (!line.startsWith('{')) return
    let event: ServerEvent
    try {
      event = JSON.parse(line) as ServerEvent
    } catch {
      return
    }
    for (const listener of [...this.listeners]) listener(event)
  }
}
