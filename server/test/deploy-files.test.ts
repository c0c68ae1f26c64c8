import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { spawnServer } from '@botsync/testkit/server'

// Docker is not on the test machines: these check what can be checked
// without it, that the Dockerfile, docker-compose.yml and the nginx config
// agree with each other, with package.json and with the README.

const ROOT = new URL('../../', import.meta.url).pathname
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const rootPackage = JSON.parse(read('package.json')) as { scripts: Record<string, string>; workspaces: string[] }

interface Service {
  image?: string
  build?: { context: string; dockerfile?: string }
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
  volumes?: string[]
  env_file?: Array<string | { path: string; required?: boolean }>
  ports?: string[]
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> }
const botsyncServices = Object.keys(compose.services).filter((name) => name.startsWith('botsync-'))

/** The Dockerfile as instructions (continuation lines joined, comments dropped), split into its stages. */
function dockerfileStages(text: string): Array<{ from: string; instructions: Array<{ op: string; args: string }> }> {
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n')
  const stages: Array<{ from: string; instructions: Array<{ op: string; args: string }> }> = []
  for (const line of lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line)!
    if (op === 'FROM') stages.push({ from: args, instructions: [] })
    else stages.at(-1)!.instructions.push({ op, args })
  }
  return stages
}
const stages = dockerfileStages(read('Dockerfile'))
const [build, runtime] = stages
const args = (stage: (typeof stages)[number], op: string) => stage.instructions.filter((i) => i.op === op).map((i) => i.args)

/** The variables the README's Configuration table documents. */
function documentedVariables(): Set<string> {
  const readme = read('README.md')
  const start = readme.indexOf('\n## Configuration\n')
  const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 1))
  // The first cell names one variable or several (`ADMIN_EMAIL`, `ADMIN_PASSWORD`).
  const firstCells = [...section.matchAll(/^\| ([^|]+) \|/gm)].map((m) => m[1])
  return new Set(firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1])))
}

describe('docker-compose.yml', () => {
  it('has PostgreSQL 16, Redis 7, two botsync instances and nginx, with health checks and volumes', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['botsync-1', 'botsync-2', 'nginx', 'postgres', 'redis'])
    expect(compose.services.postgres.image).toMatch(/^postgres:16/)
    expect(compose.services.redis.image).toMatch(/^redis:7/)
    for (const name of ['postgres', 'redis']) {
      expect(compose.services[name].healthcheck?.test.length, name).toBeGreaterThan(0)
      const [volume] = compose.services[name].volumes![0].split(':')
      expect(Object.keys(compose.volumes), name).toContain(volume)
    }
    // Only the load balancer is reachable from outside.
    for (const [name, service] of Object.entries(compose.services)) if (name !== 'nginx') expect(service.ports, name).toBeUndefined()
  })

  it('builds every instance from the Dockerfile and starts it once PostgreSQL and Redis are healthy', () => {
    expect(botsyncServices).toEqual(['botsync-1', 'botsync-2'])
    for (const name of botsyncServices) {
      const service = compose.services[name]
      expect(service.build?.context).toBe('.')
      expect(existsSync(join(ROOT, service.build!.context, service.build!.dockerfile ?? 'Dockerfile'))).toBe(true)
      expect(service.depends_on?.postgres).toEqual({ condition: 'service_healthy' })
      expect(service.depends_on?.redis).toEqual({ condition: 'service_healthy' })
    }
    for (const name of botsyncServices) expect(compose.services.nginx.depends_on?.[name]).toEqual({ condition: 'service_healthy' })
  })

  it('gives every instance the same required secrets, database, Redis and TRUST_PROXY, and its own INSTANCE_ID', () => {
    const [first, ...others] = botsyncServices.map((name) => compose.services[name].environment!)
    for (const variable of ['JWT_SECRET', 'BOT_SERVICE_TOKEN', 'SECRETS_KEY']) expect(first[variable]).toMatch(new RegExp(`^\\$\\{${variable}:\\?.+\\}$`))
    expect(first.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//)
    expect(first.REDIS_URL).toBe('redis://redis:6379')
    expect(first.TRUST_PROXY).toBe('1')
    for (const env of others) {
      const { INSTANCE_ID: _mine, ...shared } = env
      const { INSTANCE_ID: _theirs, ...firstShared } = first
      expect(shared).toEqual(firstShared)
    }
    expect(new Set(botsyncServices.map((name) => compose.services[name].environment!.INSTANCE_ID)).size).toBe(botsyncServices.length)
  })

  it('sets only variables the README Configuration table documents', () => {
    const documented = documentedVariables()
    expect(documented.size).toBeGreaterThan(20)
    for (const name of botsyncServices) {
      const undocumented = Object.keys(compose.services[name].environment!).filter((variable) => !documented.has(variable))
      expect(undocumented, name).toEqual([])
    }
  })

  it('documents in .env.example every variable of the README table and every one the compose file interpolates', () => {
    const example = read('.env.example')
    const listed = new Set([...example.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]))
    const interpolated = new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]))
    expect(interpolated.size).toBeGreaterThan(3)
    expect([...documentedVariables()].filter((variable) => !listed.has(variable))).toEqual([])
    expect([...interpolated].filter((variable) => !listed.has(variable))).toEqual([])
  })

  it('names only files that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(':')
        if (source.startsWith('.') || source.startsWith('/')) expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true)
      }
      for (const file of service.env_file ?? []) {
        const entry = typeof file === 'string' ? { path: file, required: true } : file
        if (entry.required !== false) expect(existsSync(join(ROOT, entry.path)), `${name}: ${entry.path}`).toBe(true)
      }
    }
    expect(compose.services.nginx.volumes).toContain('./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro')
  })

  it('puts every instance, at the port it listens on, in the nginx upstream', () => {
    const conf = read('deploy/nginx/nginx.conf')
    const upstream = [...conf.matchAll(/^\s*server (\S+?):(\d+) /gm)].map((m) => `${m[1]}:${m[2]}`)
    expect(upstream).toEqual(botsyncServices.map((name) => `${name}:${compose.services[name].environment!.PORT}`))
    expect(conf).not.toMatch(/^\s*(ip_hash|hash|sticky)\b/m)
    for (const directive of [
      'proxy_http_version 1.1;',
      'proxy_set_header Upgrade $http_upgrade;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'proxy_next_upstream ',
    ]) {
      expect(conf).toContain(directive)
    }
  })
})

describe('Dockerfile', () => {
  it('builds on Node 24 slim in two stages', () => {
    expect(stages.map((stage) => stage.from)).toEqual(['node:24-slim AS build', 'node:24-slim AS runtime'])
  })

  it('runs the commands CI and npm start run: npm ci, the admin build of prestart, production dependencies, the start script', () => {
    expect(args(build, 'RUN')).toContain('npm ci --no-audit --no-fund')
    expect(rootPackage.scripts.prestart).toBe('npm run build -w admin-svelte')
    expect(args(build, 'RUN')).toContain(rootPackage.scripts.prestart)
    expect(args(runtime, 'RUN').some((run) => run.startsWith('npm ci --omit=dev '))).toBe(true)
    expect(JSON.parse(args(runtime, 'CMD')[0])).toEqual(rootPackage.scripts.start.split(' '))
    expect(args(runtime, 'COPY')).toContain('--from=build /app/admin-svelte/dist admin-svelte/dist')
  })

  it('copies every workspace manifest before npm ci (npm ci refuses a lock whose workspaces are missing)', () => {
    for (const stage of [build, runtime]) {
      const copies = args(stage, 'COPY')
      for (const workspace of rootPackage.workspaces) expect(copies).toContain(`${workspace}/package.json ${workspace}/`)
    }
  })

  it('runs as a non-root user, exposes 8080 and checks /health', () => {
    const user = args(runtime, 'USER')
    expect(user.length).toBe(1)
    expect(user[0]).not.toMatch(/^(root|0)$/)
    expect(args(runtime, 'EXPOSE')).toEqual(['8080'])
    const [healthcheck] = args(runtime, 'HEALTHCHECK')
    expect(healthcheck).toContain('/health')
    expect(healthcheck).toContain('"node", "-e"')
  })

  it("HEALTHCHECK's command passes on a running server and fails once it is gone", async () => {
    const [healthcheck] = args(runtime, 'HEALTHCHECK')
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[]
    expect(command.slice(0, 2)).toEqual(['node', '-e'])
    const exitCode = (port: number) =>
      new Promise<number>((resolve) => {
        const child = execFile(process.execPath, command.slice(1), { env: { ...process.env, PORT: String(port) } })
        child.once('exit', (code) => resolve(code ?? -1))
      })
    const server = await spawnServer()
    try {
      expect(await exitCode(server.port)).toBe(0)
    } finally {
      await server.stop()
    }
    expect(await exitCode(server.port)).toBe(1)
  })

  it('the runtime has, in production dependencies, every package the server imports', () => {
    // What the runtime stage copies of the sources, and what a --omit=dev install keeps.
    const copied = args(runtime, 'COPY')
      .map((copy) => copy.split(' '))
      .filter((parts) => parts.length === 2 && parts[0].endsWith('/src'))
      .map((parts) => parts[0])
    expect(copied).toContain('server/src')
    const production = new Set<string>()
    for (const workspace of rootPackage.workspaces) {
      const manifest = JSON.parse(read(`${workspace}/package.json`)) as { name: string; dependencies?: Record<string, string> }
      for (const dependency of Object.keys(manifest.dependencies ?? {})) production.add(dependency)
    }
    const missing = new Set<string>()
    const walk = (dir: string): string[] =>
      readdirSync(join(ROOT, dir)).flatMap((entry) => (statSync(join(ROOT, dir, entry)).isDirectory() ? walk(join(dir, entry)) : [join(dir, entry)]))
    for (const file of copied.flatMap(walk).filter((path) => path.endsWith('.ts'))) {
      const source = read(file)
      for (const [, kind, specifier] of source.matchAll(/^\s*(import type|import|export)\b[^'";]*?from '([^']+)'/gm)) {
        if (kind === 'import type' || specifier.startsWith('.') || specifier.startsWith('node:')) continue
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]
        if (!production.has(name)) missing.add(`${name} (${file})`)
      }
      // The sources it needs are there too: a workspace it imports is copied.
      for (const [, workspace] of source.matchAll(/from '@botsync\/([a-z-]+)/g)) {
        const dir = rootPackage.workspaces.find((w) => (JSON.parse(read(`${w}/package.json`)) as { name: string }).name === `@botsync/${workspace}`)
        expect(copied, `${file} imports @botsync/${workspace}`).toContain(`${dir}/src`)
      }
    }
    expect([...missing]).toEqual([])
  })
})

describe('.dockerignore', () => {
  it('keeps installed dependencies, data, build and test output and history out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
    for (const entry of ['**/node_modules', 'data', '**/dist', 'test-results', '.git', '.env']) expect(ignored).toContain(entry)
  })
})
