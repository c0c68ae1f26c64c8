import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

const running = new Set<ChildProcess>()
// Whatever happens to the benchmark, it must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** A server under test as its own OS process; ready once it logs {"event":"listening","port":N}. */
export class ServerProcess {
  readonly label: string
  readonly port: number
  private readonly child: ChildProcess

  private constructor(label: string, child: ChildProcess, port: number) {
    this.label = label
    this.child = child
    this.port = port
  }

  static async spawn(label: string, script: string, env: Record<string, string>): Promise<ServerProcess> {
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    running.add(child)
    child.once('exit', () => running.delete(child))
    const tail: string[] = []
    const keep = (line: string) => {
      tail.push(line)
      if (tail.length > 30) tail.shift()
    }
    createInterface({ input: child.stderr! }).on('line', keep)
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label} did not start:\n${tail.join('\n')}`)), 30_000)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${label} exited with ${code}:\n${tail.join('\n')}`))
      })
      createInterface({ input: child.stdout! }).on('line', (line) => {
        keep(line)
        try {
          const entry = JSON.parse(line) as { event?: string; port?: number }
          if (entry.event === 'listening' && entry.port) {
            clearTimeout(timer)
            resolve(entry.port)
          }
        } catch {}
      })
    })
    return new ServerProcess(label, child, port)
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Resident memory now and at its peak, in MiB (Linux /proc). */
  memory(): { rssMb: number; peakRssMb: number } {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rssMb: round(kb('VmRSS') / 1024), peakRssMb: round(kb('VmHWM') / 1024) }
  }

  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}
