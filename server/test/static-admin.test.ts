import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { startServer } from '@botsync/testkit/server'

/** A raw GET, so paths like /../ reach the server unnormalised. */
function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string; cache: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body, cache: String(res.headers['cache-control'] ?? '') }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the built admin served at /', () => {
  let server: BotsyncServer
  let empty: BotsyncServer
  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'botsync-admin-'))
    const dist = join(root, 'dist')
    mkdirSync(join(dist, 'assets'), { recursive: true })
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>admin</title>')
    writeFileSync(join(dist, 'miniapp.html'), '<!doctype html><title>mini app</title>')
    writeFileSync(join(dist, 'assets', 'app-123.js'), 'console.log(1)')
    writeFileSync(join(dist, 'assets', 'app-123.css'), 'body{}')
    writeFileSync(join(dist, 'sw.js'), 'self.addEventListener("install", () => {})')
    writeFileSync(join(dist, 'workbox-abc123.js'), 'define([], () => {})')
    writeFileSync(join(dist, 'manifest.webmanifest'), '{"name":"botsync"}')
    writeFileSync(join(root, 'secret.txt'), 'outside the root')
    server = await startServer({ ADMIN_DIR: dist })
    empty = await startServer({ ADMIN_DIR: join(root, 'not-built') })
  })
  afterAll(async () => {
    await server?.stop()
    await empty?.stop()
  })

  it('serves files with their content type, hashed assets cacheable and index.html revalidated', async () => {
    const index = await get(server.port, '/')
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', cache: 'no-cache' })
    expect(index.body).toContain('<title>admin</title>')
    expect(await get(server.port, '/assets/app-123.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', cache: 'public, max-age=31536000, immutable' })
    expect(await get(server.port, '/assets/app-123.css')).toMatchObject({ status: 200, type: 'text/css; charset=utf-8' })
    expect(await get(server.port, '/assets/app-123.js', 'HEAD')).toMatchObject({ status: 200, body: '' })
    // The Mini App is the build's second page, at /miniapp.
    const miniApp = await get(server.port, '/miniapp')
    expect(miniApp).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', cache: 'no-cache' })
    expect(miniApp.body).toContain('<title>mini app</title>')
  })

  it('serves the service worker and the manifest revalidated, so a new version is found at the next check', async () => {
    expect(await get(server.port, '/sw.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', cache: 'no-cache' })
    expect(await get(server.port, '/workbox-abc123.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', cache: 'no-cache' })
    expect(await get(server.port, '/manifest.webmanifest')).toMatchObject({ status: 200, type: 'application/manifest+json', cache: 'no-cache' })
  })

  it('answers the app’s own routes with index.html, and a missing file with 404', async () => {
    expect((await get(server.port, '/demo/scenarios')).body).toContain('<title>admin</title>')
    expect(await get(server.port, '/assets/missing.js')).toMatchObject({ status: 404 })
  })

  it('never serves a file outside the admin directory', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e%2fsecret.txt']) {
      const response = await get(server.port, path)
      expect(response.body, path).not.toContain('outside the root')
      expect(response.status, path).not.toBe(200)
    }
    expect(await get(server.port, '/%00')).toMatchObject({ status: 400 })
  })

  it('keeps the API and health routes', async () => {
    expect((await get(server.port, '/health')).type).toContain('application/json')
    expect(await get(server.port, '/api/nothing')).toMatchObject({ status: 404, type: 'application/json; charset=utf-8' })
  })

  it('says how to build the admin when it is not built', async () => {
    const response = await get(empty.port, '/')
    expect(response.status).toBe(503)
    expect(response.type).toBe('text/plain; charset=utf-8')
    expect(response.body).toContain('npm run build -w admin-svelte')
  })
})
