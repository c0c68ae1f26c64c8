import { svelte } from '@sveltejs/vite-plugin-svelte'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The server the dev server forwards /api, /collab and /readers to (npm start runs it on 8080).
const server = process.env.BOTSYNC_SERVER_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [svelte()],
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
