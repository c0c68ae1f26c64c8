// Debian's Chromium as the e2e tests and the benchmarks drive it, and an
// admin logged in through the real login form.
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}

/** Opens `space`'s scenario list, which asks for a login, and logs in through the form. */
export async function logInThroughForm(page: Page, baseUrl: string, space: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/#/${space}/scenarios`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
}
