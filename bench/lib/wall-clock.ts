/**
 * Milliseconds on a clock every thread of the bench shares: performance.now()
 * counts from each thread's own start, so a time taken in a worker and one
 * taken in the main thread compare only with the thread's timeOrigin added.
 */
export const wallClock = (): number => performance.timeOrigin + performance.now()
