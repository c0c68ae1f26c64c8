import type { ServerProcess } from '@botsync/testkit/server-process'

export interface Launch {
  /** Starts the server process; called again (same configuration, same database) by restart(). */
  spawn(): Promise<ServerProcess>
  /** Path of the collaboration WebSocket. */
  collabPath: string
  /** What a provider sends as its token, fetched once after the first start. */
  token?(server: ServerProcess): Promise<string>
}

/**
 * One of the compared servers: its current process, the WebSocket URL and
 * token providers use, and a restart on the same database (for the crash
 * measurement).
 */
export class SystemUnderTest {
  readonly name: string
  token: string | undefined
  private readonly launch: Launch
  private current: ServerProcess | null = null

  constructor(name: string, launch: Launch) {
    this.name = name
    this.launch = launch
  }

  async start(): Promise<void> {
    if (this.current) throw new Error(`${this.name} is already running`)
    this.current = await this.launch.spawn()
    if (this.launch.token && this.token === undefined) this.token = await this.launch.token(this.current)
  }

  get server(): ServerProcess {
    if (!this.current) throw new Error(`${this.name} is not running`)
    return this.current
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.server.port}${this.launch.collabPath}`
  }

  /** SIGKILL: the process gets no chance to flush. start() brings it back on the same database. */
  async kill(): Promise<void> {
    const server = this.server
    this.current = null
    await server.kill()
  }

  async stop(): Promise<void> {
    const server = this.current
    this.current = null
    await server?.stop()
  }
}
