// Vitest globalSetup of the e2e project: builds the admin once per run, so
// the tests exercise exactly what `npm start` serves.
import { build } from 'vite'

export default async function setup(): Promise<void> {
  const root = new URL('..', import.meta.url).pathname
  await build({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn' })
}
