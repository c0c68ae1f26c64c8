// Unit and component tests of the admin (jsdom, Svelte's browser runtime).
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { svelteTesting } from '@testing-library/svelte/vite'
import { defineProject } from 'vitest/config'

export default defineProject({
  root: import.meta.dirname,
  plugins: [svelte(), svelteTesting()],
  test: {
    name: 'admin',
    environment: 'jsdom',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
})
