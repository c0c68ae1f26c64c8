// The bot's events as toasts, with a real ToastState on fake timers: a burst
// is one toast, toasts come at most once per interval (a visible one is
// updated in place), none while the Activity page is open, none while
// muted, and the mute is remembered per user.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { EventNotifications } from '../src/lib/notifications/event-notifications.svelte.ts'
import { ToastState } from '../src/lib/ui/toast-state.svelte.ts'

const WINDOW = 1500
const INTERVAL = 5000
const TOAST_MS = 6000

describe('EventNotifications', () => {
  let toasts: ToastState
  const made: EventNotifications[] = []
  const notifier = (user = 'u1') => {
    const notifications = new EventNotifications({ toasts, storageKey: `botsync:notifications-muted:${user}`, windowMs: WINDOW, minIntervalMs: INTERVAL })
    made.push(notifications)
    return notifications
  }
  const messages = () => toasts.items.map((toast) => toast.message)

  beforeEach(() => {
    vi.useFakeTimers()
    localStorage.clear()
    toasts = new ToastState(TOAST_MS)
  })
  afterEach(() => {
    for (const notifications of made.splice(0)) notifications.destroy()
    vi.useRealTimers()
  })

  it('shows a burst as one toast: one event by its description, several as their count', () => {
    const notifications = notifier()
    notifications.report(['A user pressed “Get started”'])
    expect(messages()).toEqual([])
    vi.advanceTimersByTime(WINDOW)
    expect(messages()).toEqual(['A user pressed “Get started”'])
    vi.advanceTimersByTime(TOAST_MS)
    expect(messages()).toEqual([])

    // Twelve events within the window, in three reports.
    notifications.report(Array.from({ length: 5 }, (_, i) => `event ${i}`))
    vi.advanceTimersByTime(500)
    notifications.report(Array.from({ length: 4 }, (_, i) => `event ${i}`))
    vi.advanceTimersByTime(500)
    notifications.report(['a', 'b', 'c'])
    expect(messages()).toEqual([])
    vi.advanceTimersByTime(WINDOW)
    expect(messages()).toEqual(['12 new events'])
  })

  it('limits the rate: a steady stream of events makes one toast, updated at most once per interval', () => {
    const notifications = notifier()
    const seen: string[] = []
    let shows = 0
    const show = toasts.show.bind(toasts)
    toasts.show = (...args) => {
      shows++
      return show(...args)
    }
    // An event every 250 ms for 30 s: 120 events.
    for (let t = 0; t < 30_000; t += 250) {
      notifications.report([`event at ${t}`])
      vi.advanceTimersByTime(250)
      expect(toasts.items.length).toBeLessThanOrEqual(1)
      const now = messages()[0]
      if (now !== undefined && now !== seen.at(-1)) seen.push(now)
    }
    vi.advanceTimersByTime(INTERVAL)
    // 30 s at one change per 5 s: the first after the window, then at 6.5, 11.5, … s.
    expect(seen.length).toBeLessThanOrEqual(30_000 / INTERVAL + 1)
    expect(seen.length).toBeGreaterThanOrEqual(30_000 / INTERVAL - 1)
    // The same toast all along, counting every event.
    expect(shows).toBe(1)
    expect(messages()).toEqual(['120 new events'])
  })

  it('shows nothing while the Activity page is open, and does not save those events for later', () => {
    const notifications = notifier()
    notifications.report(['before'])
    vi.advanceTimersByTime(WINDOW)
    expect(messages()).toEqual(['before'])
    // Opening the Activity page takes the toast away; what arrives there is not toasted.
    notifications.setPaused(true)
    expect(messages()).toEqual([])
    notifications.report(['on the page 1', 'on the page 2'])
    vi.advanceTimersByTime(INTERVAL * 2)
    expect(messages()).toEqual([])
    // Back on another page: only what comes next.
    notifications.setPaused(false)
    notifications.report(['after'])
    vi.advanceTimersByTime(INTERVAL)
    expect(messages()).toEqual(['after'])
  })

  it('is muted per user, remembered on this device, and drops what was waiting', () => {
    const ana = notifier('ana')
    ana.report(['waiting'])
    ana.setMuted(true)
    vi.advanceTimersByTime(INTERVAL)
    expect(messages()).toEqual([])
    ana.report(['muted'])
    vi.advanceTimersByTime(INTERVAL)
    expect(messages()).toEqual([])

    // A reload: Ana is still muted; Ben, on the same browser, is not.
    expect(notifier('ana').muted).toBe(true)
    const ben = notifier('ben')
    expect(ben.muted).toBe(false)
    ben.report(['for Ben'])
    vi.advanceTimersByTime(WINDOW)
    expect(messages()).toEqual(['for Ben'])

    ana.setMuted(false)
    expect(notifier('ana').muted).toBe(false)
  })
})
