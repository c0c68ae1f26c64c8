import { svelte } from '@sveltejs/vite-plugin-svelte'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

// The server the dev server forwards /api, /collab and /readers to (npm start runs it on 8080).
const server = process.env.BOTSYNC_SERVER_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [
    svelte(),
    // The admin's offline app shell: a Workbox service worker (dist/sw.js) that
    // precaches the built admin, so a reload without network opens it and the
    // documents come from IndexedDB. `prompt`: a new version waits until the
    // user clicks "Reload" (lib/app-update/), never replacing the page mid-edit.
    VitePWA({
      registerType: 'prompt',
      // Registered by src/lib/app-update/ (virtual:pwa-register), not by an injected script.
      injectRegister: false,
      // The web app manifest is public/manifest.webmanifest, linked from index.html
      // only: the plugin would add its link to every page, the Mini App's too,
      // which would offer to install the admin from a Mini App page.
      manifest: false,
      workbox: {
        // The admin's page, scripts, styles, fonts and icons; not the Mini App's
        // page (a separate page opened from Telegram: always from the network).
        globPatterns: ['**/*.{html,js,css,svg,png,woff,woff2,webmanifest}'],
        globIgnores: ['miniapp.html', 'assets/miniapp-*'],
        // Only the admin's own address is answered with the cached index.html
        // (its routes are in the hash). Every other navigation — /miniapp, /api,
        // /health, /metrics — goes to the network, and nothing else is cached
        // at run time: /api (media with the bearer token included), /collab and
        // /readers are never stored by the service worker.
        navigateFallback: 'index.html',
        navigateFallbackAllowlist: [/^\/(index\.html)?$/],
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  server: {
    proxy: {
      '/api': server,
      '/health': server,
      '/collab': { target: server.replace(/^http/, 'ws'), ws: true },
      '/readers': { target: server.replace(/^http/, 'ws'), ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Two pages: the admin (index.html) and the Mini App readers open from
    // Telegram (miniapp.html, served at /miniapp), each with its own bundle.
    rollupOptions: {
      input: {
        admin: fileURLToPath(new URL('index.html', import.meta.url)),
        miniapp: fileURLToPath(new URL('miniapp.html', import.meta.url)),
      },
    },
  },
})
