// The HTTP side as seen from outside: security headers on every response
// and a CSP per page, 405/426 instead of Hocuspocus' 200 banner, exact JSON
// media types, and requests whose headers never end are cut off.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { startServer } from '@botsync/testkit/server'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw request, any method (TRACE included), any headers. */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('HTTP hygiene', () => {
  let server: BotsyncServer
  let port: number
  beforeAll(async () => {
    const dist = join(mkdtempSync(join(tmpdir(), 'botsync-admin-')), 'dist')
    mkdirSync(join(dist, 'assets'), { recursive: true })
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>admin</title>')
    writeFileSync(join(dist, 'miniapp.html'), '<!doctype html><title>mini app</title>')
    writeFileSync(join(dist, 'assets', 'app-1.js'), 'console.log(1)')
    server = await startServer({ ADMIN_DIR: dist, HTTP_HEADERS_TIMEOUT_MS: '500' })
    port = server.port
  })
  afterAll(() => server.stop())

  it('sends nosniff and no-referrer on every response, API and errors included', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/health'],
      ['GET', '/api/me'],
      ['GET', '/api/nope'],
      ['PUT', '/'],
      ['GET', '/assets/app-1.js'],
    ]) {
      const { headers } = await send(port, method, path)
      expect(headers['x-content-type-options'], `${method} ${path}`).toBe('nosniff')
      expect(headers['referrer-policy'], `${method} ${path}`).toBe('no-referrer')
    }
  })

  it('forbids framing the admin and lets only Telegram Web frame the Mini App', async () => {
    const admin = await send(port, 'GET', '/demo/scenarios', { host: `127.0.0.1:${port}` })
    expect(admin.headers['x-frame-options']).toBe('DENY')
    const csp = String(admin.headers['content-security-policy'])
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self';")
    // The step preview's media: blob: URLs of bytes fetched with the bearer token.
    expect(csp).toContain("img-src 'self' data: blob:;")
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${port} wss://127.0.0.1:${port}`)
    expect(csp).not.toContain('unsafe')
    // The offline app shell: the service worker and the web app manifest, from this origin only.
    expect(csp).toContain("worker-src 'self';")
    expect(csp).toContain("manifest-src 'self';")
    const miniApp = await send(port, 'GET', '/miniapp')
    expect(miniApp.body).toContain('mini app')
    expect(miniApp.headers['x-frame-options']).toBeUndefined()
    expect(String(miniApp.headers['content-security-policy'])).toContain('frame-ancestors https://web.telegram.org')
    // A Host header that is not a host does not make it into the policy.
    const odd = await send(port, 'GET', '/', { host: 'x; script-src *' })
    expect(String(odd.headers['content-security-policy'])).toContain("connect-src 'self';")
  })

  it('answers methods a path does not take with 405 and Allow, and never with the Hocuspocus banner', async () => {
    const cases: Array<[string, string, string]> = [
      ['PUT', '/', 'GET, HEAD'],
      ['DELETE', '/', 'GET, HEAD'],
      ['TRACE', '/', 'GET, HEAD'],
      ['POST', '/demo/scenarios', 'GET, HEAD'],
      ['GET', '/api/login', 'POST'],
      ['POST', '/health', 'GET'],
      ['DELETE', '/api/activity', 'POST'],
      ['POST', '/collab', 'GET'],
    ]
    for (const [method, path, allow] of cases) {
      const answer = await send(port, method, path)
      expect({ status: answer.status, allow: answer.headers.allow }, `${method} ${path}`).toEqual({ status: 405, allow })
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'method-not-allowed' })
    }
    for (const path of ['/collab', '/readers']) {
      const answer = await send(port, 'GET', path)
      expect(answer.status, path).toBe(426)
      expect(answer.headers.upgrade).toBe('websocket')
    }
    for (const [method, path] of [...cases.map(([m, p]) => [m, p]), ['GET', '/collab'], ['GET', '/api/nope'], ['OPTIONS', '*']]) {
      expect((await send(port, method, path)).body, `${method} ${path}`).not.toContain('Hocuspocus')
    }
  })

  it('takes only application/json (parameters aside) as JSON: 415 otherwise', async () => {
    const login = (type: string) => send(port, 'POST', '/api/login', { 'content-type': type }, JSON.stringify({ email: 'nobody@x', password: 'x' }))
    for (const type of ['text/plain; x=application/json', 'application/jsonx', 'application/json-patch+json', 'application/json; charset=latin1', 'nonsense']) {
      const answer = await login(type)
      expect(answer.status, type).toBe(415)
      expect(JSON.parse(answer.body), type).toMatchObject({ error: 'unsupported-media-type' })
    }
    // The media type itself: case-insensitive, parameters allowed.
    for (const type of ['application/json', 'Application/JSON; charset=UTF-8']) {
      expect((await login(type)).status, type).toBe(401)
    }
  })

  it('closes a connection whose headers never finish (slowloris)', async () => {
    const socket = tcpConnect(port, '127.0.0.1')
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => (received += chunk))
    // A drip written after the server's 408 and close is answered with a reset
    // (ECONNRESET); that is the server hanging up, which the close below awaits.
    socket.on('error', () => {})
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n')
    // A header every 100 ms, never the blank line that ends them.
    const drip = setInterval(() => socket.writable && socket.write(`X-Drip-${Date.now()}: 1\r\n`), 100)
    await closed
    clearInterval(drip)
    expect(received).toMatch(/^HTTP\/1\.1 408/)
  })
})
