// Polling for the header's live figures (the bot's status, the unpublished
// count): every `intervalMs` while the page is visible, and at once when it
// comes back into view, so a hidden tab asks the server nothing.

/** Calls `run` now and then as described; returns the stop function. */
export function everyWhileVisible(run: () => void, intervalMs: number): () => void {
  run()
  const visible = (): boolean => typeof document === 'undefined' || document.visibilityState === 'visible'
  const timer = setInterval(() => {
    if (visible()) run()
  }, intervalMs)
  const onVisibility = (): void => {
    if (visible()) run()
  }
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisibility)
  return () => {
    clearInterval(timer)
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility)
  }
}
