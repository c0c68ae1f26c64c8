import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * What the built admin needs, from admin-svelte/dist: module scripts and
 * stylesheets from this origin only (Vite's modulepreload polyfill is in
 * the entry bundle, not inline; Svelte sets `style:` directives and `style`
 * attributes through CSSOM (`style.cssText`, `setProperty`), which
 * style-src does not govern: the flow map's Svelte Flow positions every node
 * and edge that way, so it needs no 'unsafe-inline'), images from this
 * origin (the favicon) and data: ones, the step preview's media as blob:
 * URLs (fetched with the bearer token, which an <img src> cannot send;
 * lib/preview/media-thumbnails.svelte.ts), and
 * fetch/WebSocket to this origin. `'self'` covers ws:/wss: of the same host
 * in CSP 3, but WebKit (Telegram's iOS WebView) long matched only http(s),
 * so the page's own ws(s) origin is named too when the Host header is sane.
 * The service worker (/sw.js) and the manifest come from this origin too.
 */
function policy(host: string | undefined, frameAncestors: string): string {
  const socket = host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? ` ws://${host} wss://${host}` : ''
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self'",
    `connect-src 'self'${socket}`,
    // The admin's offline app shell: its service worker (/sw.js, which imports
    // Workbox from this origin) and its web app manifest. Stated rather than
    // left to script-src's fallback, which not every browser applies to workers.
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ')
}

/**
 * Telegram's web clients (Web K and Web A, both at web.telegram.org) show a
 * Mini App in an iframe; the mobile and desktop apps open it top-level in a
 * WebView, where frame-ancestors does not apply.
 */
export const TELEGRAM_WEB_ORIGINS = ['https://web.telegram.org']

const MINIAPP_PATHS = new Set(['/miniapp', '/miniapp.html', '/miniapp/'])

/** On every response, API included. */
export function setCommonHeaders(response: ServerResponse): void {
  response.setHeader('x-content-type-options', 'nosniff')
  response.setHeader('referrer-policy', 'no-referrer')
}

/**
 * For the pages and files of the built admin: the admin may not be framed
 * by anyone (clickjacking an owner's session); the Mini App only by
 * Telegram's web clients. X-Frame-Options cannot name an origin, so the Mini
 * App relies on frame-ancestors alone.
 */
export function setPageHeaders(request: IncomingMessage, response: ServerResponse, path: string): void {
  if (MINIAPP_PATHS.has(path)) {
    response.setHeader('content-security-policy', policy(request.headers.host, TELEGRAM_WEB_ORIGINS.join(' ')))
    return
  }
  response.setHeader('content-security-policy', policy(request.headers.host, "'none'"))
  response.setHeader('x-frame-options', 'DENY')
}
