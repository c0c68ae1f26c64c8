import { describe, expect, it, vi } from 'vitest'
import type { RegisterSWOptions } from 'vite-plugin-pwa/types'
import { AppUpdateState } from '../src/lib/app-update/app-update-state.svelte.ts'

/** vite-plugin-pwa's registerSW as a stand-in: the test plays the service worker's part through the options it was given. */
function fakeRegister() {
  const calls: Array<boolean | undefined> = []
  let options: RegisterSWOptions = {}
  const register = (given: RegisterSWOptions) => {
    options = given
    return async (reload?: boolean) => void calls.push(reload)
  }
  return { register, calls, worker: () => options }
}

describe('AppUpdateState', () => {
  it('offers a waiting version, and activates it only when asked', async () => {
    const fake = fakeRegister()
    const updates = new AppUpdateState(fake.register)
    expect(fake.worker().immediate).toBe(true)
    expect(updates.current).toEqual({ available: false, shown: false })
    fake.worker().onNeedRefresh!()
    expect(updates.current).toEqual({ available: true, shown: true })
    // Nothing is activated (no reload) until the user clicks.
    expect(fake.calls).toEqual([])
    updates.dismiss()
    expect(updates.current).toEqual({ available: true, shown: false })
    await updates.reload()
    expect(fake.calls).toEqual([true])
    updates.destroy()
  })

  it('asks the server for a new version periodically once registered', async () => {
    vi.useFakeTimers()
    try {
      const fake = fakeRegister()
      const updates = new AppUpdateState(fake.register, { checkEveryMs: 1000 })
      let checks = 0
      fake.worker().onRegisteredSW!('/sw.js', { update: async () => void (checks += 1) } as unknown as ServiceWorkerRegistration)
      await vi.advanceTimersByTimeAsync(3500)
      expect(checks).toBe(3)
      updates.destroy()
      await vi.advanceTimersByTimeAsync(3000)
      expect(checks).toBe(3)
    } finally {
      vi.useRealTimers()
    }
  })
})
