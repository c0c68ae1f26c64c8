// How the admin benches (admin-load.ts, cold.ts) stamp a page "interactive":
// the scenario list page sets performance.mark('botsync:scenarios-listed')
// in the effect that runs once its first rows are in the DOM; an init script
// observes that mark (PerformanceObserver) and posts a task (MessageChannel)
// that stamps performance.now(): the list is drawn and the main thread is
// free for a click or a key. Both are relative to the navigation's start.
import type { BrowserContext, Page } from 'playwright-core'

export const SCENARIOS_LISTED_MARK = 'botsync:scenarios-listed'

export interface LoadTiming {
  listedMs: number
  interactiveMs: number
  /** Whether the service worker answered this page (navigator.serviceWorker.controller). */
  controlled: boolean
}

declare global {
  interface Window {
    __interactiveAt?: number
  }
}

/** Stamps the first task after the list's mark in every page of the context. */
export async function watchInteractive(context: BrowserContext): Promise<void> {
  await context.addInitScript((mark: string) => {
    new PerformanceObserver((list, observer) => {
      if (!list.getEntriesByName(mark).length) return
      observer.disconnect()
      const channel = new MessageChannel()
      channel.port1.onmessage = () => (window.__interactiveAt = performance.now())
      channel.port2.postMessage(null)
    }).observe({ type: 'mark', buffered: true })
  }, SCENARIOS_LISTED_MARK)
}

/**
 * Opens `url` in a new page of `context` and returns its timings once the
 * list is interactive; `after`, when given, runs on the page then and its
 * figure is returned too.
 */
export async function timeLoad(context: BrowserContext, url: string, after?: (page: Page) => Promise<number>): Promise<LoadTiming & { after?: number }> {
  const page = await context.newPage()
  try {
    await page.goto(url)
    await page.waitForFunction(() => window.__interactiveAt !== undefined, undefined, { timeout: 30_000 })
    const timing = await page.evaluate((mark) => {
      const listed = performance.getEntriesByName(mark)[0]
      return { listedMs: listed.startTime, interactiveMs: window.__interactiveAt!, controlled: navigator.serviceWorker?.controller != null }
    }, SCENARIOS_LISTED_MARK)
    return after ? { ...timing, after: await after(page) } : timing
  } finally {
    await page.close()
  }
}
