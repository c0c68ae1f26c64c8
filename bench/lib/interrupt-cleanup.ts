// What must be undone when a benchmark is interrupted (Ctrl-C, SIGTERM)
// halfway: the suite's own try/finally never runs then, because the harness
// exits the process. Servers are also SIGKILLed by ServerProcess's 'exit'
// handler; this registry covers what needs async work, like dropping a schema.

type Cleanup = () => Promise<void> | void

const cleanups: Cleanup[] = []

/** Registers `cleanup` for an interrupt; call the returned function once it is no longer needed. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.push(cleanup)
  return () => {
    const index = cleanups.indexOf(cleanup)
    if (index >= 0) cleanups.splice(index, 1)
  }
}

/** Runs the registered cleanups newest first (servers before the schema they use), within timeoutMs. */
export async function runInterruptCleanups(timeoutMs: number): Promise<void> {
  const run = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup()
      } catch {
        // Best effort: the process is exiting anyway.
      }
    }
  }
  let timer: NodeJS.Timeout | undefined
  await Promise.race([run(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
  clearTimeout(timer)
}
