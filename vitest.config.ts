import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'node',
          include: ['*/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'admin-svelte/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      // Admin unit/component tests (jsdom) and end-to-end tests (Chromium).
      'admin-svelte/vitest.config.ts',
      'admin-svelte/vitest.e2e.config.ts',
    ],
  },
})
