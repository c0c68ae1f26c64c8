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
    // A page's first load syncs several documents (the page's, and the header's: published
    // content, the bot's status); on a busy 2-core machine that can take more than
    // expect.poll's default second. Timing targets live in the benchmarks, not here.
    expect: { poll: { timeout: 5_000 } },
  },
})
