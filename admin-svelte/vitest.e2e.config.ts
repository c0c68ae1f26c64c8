// End-to-end tests: Debian's Chromium (playwright-core) against the real
// server and PostgreSQL, serving the admin built once by e2e/build-admin.ts.
import { defineProject } from 'vitest/config'

export default defineProject({
  root: import.meta.dirname,
  test: {
    name: 'admin-e2e',
    environment: 'node',
    include: ['e2e/**/*.test.ts'],
    globalSetup: ['e2e/build-admin.ts'],
    // Browsers are heavy on a 2-core machine: one file at a time.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
