import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { onInterrupt } from './interrupt-cleanup.ts'

/** Every child a benchmark started; killed when the benchmark process exits, however it exits. */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export type ServerEvent = Record<string, unknown> & { event?: string }

/**
 * A server under test in its own OS process. It must print one JSON line
 * `{"event":"listening","port":N}` on stdout when ready; every JSON line on
 * stdout is offered to event listeners (the vanilla server reports its
 * debounced stores that way).
 */
export class SpawnedServer {
  readonly label: string
  readonly child: ChildProcess
  readonly exited: Promise<number | string | null>
  port = 0
  private readonly output: string[] = []
  private readonly listeners = new Set<(event: ServerEvent) => void>()

  private constructor(label: string, entry: string, env: Record<string, string>) {
    this.label = label
    this.child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    running.add(this.child)
    // On an interrupt the server dies before anything it uses (its schema) is dropped.
    const forgetCleanup = onInterrupt(() => this.kill())
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        running.delete(this.child)
        forgetCleanup()
        resolve(code ?? signal)
      }),
    )
    this.child.stderr!.on('data', (chunk) => this.remember(String(chunk).trimEnd()))
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line))
  }

  static async spawn(label: string, entry: string, env: Record<string, string>, timeoutMs = 30_000): Promise<SpawnedServer> {
    const server = new SpawnedServer(label, entry, env)
    try {
      const listening = await Promise.race([
        server.waitForEvent((event) => event.event === 'listening' && typeof event.port === 'number', 'the listening line', timeoutMs),
        server.exited.then((code) => {
          throw new Error(`exited (${code}) before listening`)
        }),
      ])
      server.port = listening.port as number
      return server
    } catch (error) {
      server.child.kill('SIGKILL')
      throw new Error(`${label} did not start: ${(error as Error).message}\n${server.recentOutput()}`)
    }
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`
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
    if (this.output.length > 200) this.output.shift()
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
