import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export interface RedisClusterOptions {
  /** Masters (no replicas): 3 is the smallest cluster redis-cli will create. */
  masters?: number
  /**
   * cluster-node-timeout: how long a silent master takes to be marked failed.
   * Short, so a test's outage is seen (and healed) in seconds, not Redis' 15 s.
   */
  nodeTimeoutMs?: number
}

/** Every redis-server started here; killed when this process exits, however it exits. */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** One master: its port, and the process while it runs. */
interface ClusterNode {
  port: number
  dir: string
  child: ChildProcess | null
}

/**
 * A Redis Cluster of the test's own on free loopback ports: one redis-server
 * per master (`--cluster-enabled yes`, its nodes.conf in a temporary folder),
 * joined by `redis-cli --cluster create`. A master can be SIGKILLed and
 * restarted on the same port with the same nodes.conf, which is how a master
 * rejoins a cluster after a crash. `stop()` kills every process and removes
 * the folder.
 */
export class RedisCluster {
  readonly nodes: readonly ClusterNode[]
  private readonly root: string
  private readonly nodeTimeoutMs: number

  private constructor(root: string, nodes: ClusterNode[], nodeTimeoutMs: number) {
    this.root = root
    this.nodes = nodes
    this.nodeTimeoutMs = nodeTimeoutMs
  }

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3
    const root = mkdtempSync(join(tmpdir(), 'botsync-redis-cluster-'))
    const ports: number[] = []
    while (ports.length < masters) {
      const port = await freeClusterPort()
      if (!ports.includes(port)) ports.push(port)
    }
    const cluster = new RedisCluster(
      root,
      ports.map((port) => ({ port, dir: join(root, String(port)), child: null })),
      options.nodeTimeoutMs ?? 1_000,
    )
    try {
      await Promise.all(cluster.nodes.map((_, index) => cluster.startNode(index)))
      const create = ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']
      await execFileAsync('redis-cli', create, { encoding: 'utf8', timeout: 20_000 }).catch((error: { stdout?: string; stderr?: string }) => {
        throw new Error(`redis-cli --cluster create failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`)
      })
      await cluster.waitUntilOk()
    } catch (error) {
      await cluster.stop()
      throw error
    }
    return cluster
  }

  /** The seed list botsync's REDIS_CLUSTER_NODES takes. */
  get seedNodes(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',')
  }

  /** SIGKILLs one master: its connections drop, nothing answers on its port. */
  async kill(index: number): Promise<void> {
    const node = this.nodes[index]
    const child = node.child
    if (!child) return
    node.child = null
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Starts a killed master again on its port with its nodes.conf, so it rejoins with its slots. */
  async restart(index: number): Promise<void> {
    await this.startNode(index)
  }

  /** Resolves once every master reports cluster_state:ok (the cluster serves every slot). */
  async waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      const states = await Promise.all(this.nodes.map((node) => clusterState(node.port)))
      if (states.every((state) => state === 'ok')) return
      last = states.join(', ')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`Redis Cluster not ok within ${timeoutMs} ms (cluster_state per master: ${last})`)
  }

  /** The master serving the slot of `key` (a channel name, for sharded pub/sub). */
  async indexOfKey(key: string): Promise<number> {
    const port = String(this.nodes.find((node) => node.child)!.port)
    const slot = Number((await redisCli(port, 'CLUSTER', 'KEYSLOT', key)).trim())
    // CLUSTER NODES: `<id> <host:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges…>`.
    for (const line of (await redisCli(port, 'CLUSTER', 'NODES')).trim().split('\n')) {
      const fields = line.split(' ')
      const master = Number(fields[1].split('@')[0].split(':')[1])
      for (const range of fields.slice(8)) {
        const [start, end = start] = range.split('-').map(Number)
        if (slot >= start && slot <= end) return this.nodes.findIndex((node) => node.port === master)
      }
    }
    throw new Error(`no master serves slot ${slot}`)
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((_, index) => this.kill(index)))
    rmSync(this.root, { recursive: true, force: true })
  }

  private async startNode(index: number): Promise<void> {
    const node = this.nodes[index]
    if (node.child) return
    const args = [
      '--port',
      String(node.port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(node.dir, 'nodes.conf'),
      '--cluster-node-timeout',
      String(this.nodeTimeoutMs),
      '--dir',
      node.dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ]
    mkdirSync(node.dir, { recursive: true })
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    node.child = child
    running.add(child)
    child.once('exit', () => running.delete(child))
    const output: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${node.port} did not start:\n${output.join('')}`)), 10_000)
      const onExit = (code: number | null) => {
        clearTimeout(timer)
        node.child = null
        reject(new Error(`redis-server on ${node.port} exited with ${code}:\n${output.join('')}`))
      }
      child.once('exit', onExit)
      child.stdout!.on('data', (chunk) => {
        output.push(String(chunk))
        if (output.join('').includes('Ready to accept connections')) {
          clearTimeout(timer)
          child.off('exit', onExit)
          resolve()
        }
      })
    })
  }
}

async function clusterState(port: number): Promise<string> {
  const info = await redisCli(String(port), 'CLUSTER', 'INFO').catch(() => '')
  return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unreachable'
}

async function redisCli(port: string, ...command: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', port, ...command], { encoding: 'utf8', timeout: 2_000 })
  return stdout
}

/**
 * A free port P whose cluster bus port P + 10000 is free too; below 55536 so
 * the bus port exists. Taken at random from a range the OS does not hand out
 * for outgoing connections, then checked.
 */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port
  }
  throw new Error('no free pair of ports for a Redis Cluster node')
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
