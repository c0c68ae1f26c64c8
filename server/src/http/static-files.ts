import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
}

/**
 * Serves the built admin (admin-svelte/dist): files with their content type,
 * index.html for any other path without a file extension (the SPA's own
 * routes), and nothing outside the root. Vite's hashed files under /assets/
 * never change, so browsers may keep them; index.html is always revalidated.
 * Hand-written because it is ~80 lines and the server has no HTTP framework
 * to hang a static-file middleware on.
 */
export class StaticFiles {
  readonly root: string

  constructor(root: string) {
    this.root = resolve(root)
  }

  /** Answers GET/HEAD requests; returns false when the request is not for it. */
  async serve(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false
    const rawPath = new URL(request.url ?? '/', 'http://localhost').pathname
    let path: string
    try {
      path = decodeURIComponent(rawPath)
    } catch {
      this.#send(response, request, 400, 'text/plain; charset=utf-8', 'Bad request: malformed path\n')
      return true
    }
    if (path.includes('\0')) {
      this.#send(response, request, 400, 'text/plain; charset=utf-8', 'Bad request: malformed path\n')
      return true
    }
    const file = resolve(join(this.root, path))
    if (file !== this.root && !file.startsWith(this.root + sep)) {
      this.#send(response, request, 404, 'text/plain; charset=utf-8', 'Not found\n')
      return true
    }
    // `/miniapp` is miniapp.html: a second page of the build, not an admin route.
    const found = (await this.#file(file)) ?? (extname(path) === '' && file !== this.root ? await this.#file(`${file}.html`) : null)
    if (found) {
      this.#stream(request, response, found.path, found.size, rawPath.startsWith('/assets/'))
      return true
    }
    if (extname(path) !== '') {
      // A missing asset is a 404, not the app: a stale script tag should fail loudly.
      this.#send(response, request, 404, 'text/plain; charset=utf-8', 'Not found\n')
      return true
    }
    const index = await this.#file(join(this.root, 'index.html'))
    if (!index) {
      this.#send(
        response,
        request,
        503,
        'text/plain; charset=utf-8',
        'The admin is not built yet. Run `npm run build -w admin-svelte` (npm start does this for you), then reload.\n',
      )
      return true
    }
    this.#stream(request, response, index.path, index.size, false)
    return true
  }

  async #file(path: string): Promise<{ path: string; size: number } | null> {
    try {
      const info = await stat(path)
      if (info.isFile()) return { path, size: info.size }
      if (info.isDirectory()) {
        const index = join(path, 'index.html')
        const indexInfo = await stat(index).catch(() => null)
        if (indexInfo?.isFile()) return { path: index, size: indexInfo.size }
      }
      return null
    } catch {
      return null
    }
  }

  #stream(request: IncomingMessage, response: ServerResponse, path: string, size: number, immutable: boolean): void {
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    })
    if (request.method === 'HEAD') {
      response.end()
      return
    }
    createReadStream(path)
      .on('error', () => response.destroy())
      .pipe(response)
  }

  #send(response: ServerResponse, request: IncomingMessage, status: number, type: string, body: string): void {
    response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
    response.end(request.method === 'HEAD' ? undefined : body)
  }
}
