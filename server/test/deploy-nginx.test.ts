import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { connect, login, ownSpace, spawnServer, synced, waitFor, type ServerProcess, type TestClient } from '@botsync/testkit/server'
import { health, logOf, SHARED_REDIS_URL, uniquePrefix } from './redis-helpers.ts'

// The production load balancer config (deploy/nginx/nginx.conf, what
// docker-compose.yml mounts) run by the real nginx binary in front of two
// real instances: only the upstream addresses and the listen port differ
// (and nginx's temp paths, which a test cannot leave in /var/lib/nginx).

const NGINX_CONF = new URL('../../deploy/nginx/nginx.conf', import.meta.url)
const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx'

/** deploy/nginx/nginx.conf with the upstream servers and the listen port replaced; throws if the file's shape changed. */
export function renderNginxConf(conf: string, upstreams: string[], listen: string, tempDir: string): string {
  const servers = [...conf.matchAll(/^(\s*server )botsync-\d+:8080( .*;)$/gm)]
  if (servers.length !== upstreams.length) throw new Error(`expected ${upstreams.length} upstream server lines, found ${servers.length}`)
  let index = 0
  let rendered = conf.replace(/^(\s*server )botsync-\d+:8080( .*;)$/gm, (_line, head: string, tail: string) => `${head}${upstreams[index++]}${tail}`)
  const listens = rendered.match(/^\s*listen 80;$/gm) ?? []
  if (listens.length !== 1) throw new Error(`expected one "listen 80;" line, found ${listens.length}`)
  rendered = rendered.replace(/^(\s*)listen 80;$/m, `$1listen ${listen};`)
  const temp = ['client_body_temp_path', 'proxy_temp_path'].map((directive) => `  ${directive} ${join(tempDir, directive)};`).join('\n')
  return rendered.replace(/^http \{$/m, `http {\n${temp}`)
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

class Nginx {
  readonly output: string[] = []
  readonly exited: Promise<number | string | null>
  readonly child: ChildProcess
  readonly port: number
  private constructor(child: ChildProcess, port: number) {
    this.child = child
    this.port = port
    child.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()))
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  }

  /** nginx in the foreground with the rendered config; resolves once /health answers through it. */
  static async start(conf: string, upstreams: string[]): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), 'botsync-nginx-'))
    // Workers run as nobody when the master is root: they need to reach the temp paths.
    chmodSync(dir, 0o755)
    const port = await freePort()
    const file = join(dir, 'nginx.conf')
    writeFileSync(file, renderNginxConf(conf, upstreams, `127.0.0.1:${port}`, dir))
    // access_log /dev/stdout: a file (a socket pair, what 'pipe' gives, cannot be opened by path).
    const accessLog = openSync(join(dir, 'access.log'), 'a')
    const child = spawn(NGINX, ['-p', dir, '-c', file, '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr;`], { stdio: ['ignore', accessLog, 'pipe'] })
    closeSync(accessLog)
    running.add(child)
    child.once('exit', () => running.delete(child))
    const nginx = new Nginx(child, port)
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${nginx.output.join('')}`)
        return (await fetch(`${nginx.url}/health`).catch(() => null))?.status === 200
      },
      'nginx to answer /health',
      20_000,
    )
    return nginx
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/collab`
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGTERM')
    await this.exited
  }
}

/** nginx masters still running when this process exits get SIGTERM (they take their workers down). */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM')
})

const processes: ServerProcess[] = []
const clients: TestClient[] = []
const proxies: Nginx[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy()
  for (const proxy of proxies.splice(0)) await proxy.stop()
  for (const p of processes.splice(0)) p.child.kill('SIGKILL')
})

/** Opens a WebSocket and closes it; rejects with what the upgrade got instead (e.g. "Unexpected server response: 404"). */
function upgrades(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url)
    socket.once('open', () => {
      socket.close()
      resolve()
    })
    socket.once('error', reject)
  })
}

/** Whether the instance has the document loaded (a client of its own has it open). */
async function hasLoaded(instance: ServerProcess, name: string): Promise<boolean> {
  const { body } = await health(instance.url)
  return JSON.stringify((body as unknown as { storage: { documents: unknown[] } }).storage.documents).includes(JSON.stringify(name))
}

describe('deploy/nginx/nginx.conf in front of two instances', () => {
  it('renders the production file with only addresses changed', () => {
    const conf = readFileSync(NGINX_CONF, 'utf8')
    const rendered = renderNginxConf(conf, ['127.0.0.1:1', '127.0.0.1:2'], '127.0.0.1:3', '/tmp/x')
    const changed = rendered.split('\n').filter((line) => !conf.split('\n').includes(line))
    expect(changed.map((line) => line.trim())).toEqual([
      'client_body_temp_path /tmp/x/client_body_temp_path;',
      'proxy_temp_path /tmp/x/proxy_temp_path;',
      'server 127.0.0.1:1 max_fails=2 fail_timeout=10s;',
      'server 127.0.0.1:2 max_fails=2 fail_timeout=10s;',
      'listen 127.0.0.1:3;',
    ])
  })

  it('carries WebSockets; on SIGTERM the client reconnects through nginx to the other instance and keeps saving', async () => {
    const prefix = uniquePrefix()
    const email = `owner-${prefix}@test.local`
    // TRUST_PROXY as in docker-compose.yml: one hop, nginx.
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'behind nginx', TRUST_PROXY: '1' }
    const a = await spawnServer({ ...env, INSTANCE_ID: `${prefix}-a` })
    processes.push(a)
    const b = await spawnServer({ ...env, INSTANCE_ID: `${prefix}-b` })
    processes.push(b)
    const nginx = await Nginx.start(readFileSync(NGINX_CONF, 'utf8'), [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`])
    proxies.push(nginx)

    // Everything through nginx: the upgrade, the login (POST /api) and the provider's WebSocket.
    await upgrades(nginx.wsUrl)
    const token = await login(nginx.url, email, 'behind nginx')
    const name = `${await ownSpace(email)}/scenario/behind-nginx`
    const writer = connect(nginx.wsUrl, name, token)
    clients.push(writer)
    await synced(writer, 30_000)
    writer.doc.getArray<string>('log').push(['before'])
    await synced(writer, 30_000)

    await waitFor(async () => (await hasLoaded(a, name)) || (await hasLoaded(b, name)), 'an instance to have the document', 30_000)
    const [on, other] = (await hasLoaded(a, name)) ? [a, b] : [b, a]
    const closes: number[] = []
    writer.socket.on('disconnect', ({ event }: { event: { code: number } }) => closes.push(event.code))

    on.child.kill('SIGTERM')
    expect(await on.exited).toBe(0)
    expect(closes[0]).toBe(1001)

    // The provider reconnects to the same URL, nginx's; the only instance left takes it.
    await waitFor(async () => writer.provider.isSynced && (await hasLoaded(other, name)), 'the writer to reconnect through nginx to the other instance', 30_000)
    writer.doc.getArray<string>('log').push(['after'])
    await synced(writer, 30_000)

    const reader = connect(nginx.wsUrl, name, token)
    clients.push(reader)
    await synced(reader, 30_000)
    await waitFor(() => logOf(reader.doc).join() === 'before,after', 'the second client to see both edits', 30_000)
    expect(logOf(reader.doc)).toEqual(['before', 'after'])
  })
})
