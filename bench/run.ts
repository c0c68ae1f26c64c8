// `npm run bench [-- suite…]`: runs the named suites (default: all) one after
// another and prints ONE JSON object { "<suite>": <result>, … } on stdout.
// Progress goes to stderr, so stdout stays machine-readable.
import { runInterruptCleanups } from './lib/interrupt-cleanup.ts'
import { suites } from './suites/index.ts'

const requested = process.argv.slice(2)
const unknown = requested.filter((name) => !(name in suites))
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark suite(s): ${unknown.join(', ')}; available: ${Object.keys(suites).join(', ')}\n`)
  process.exit(2)
}

// Ctrl-C or a kill from outside: stop the servers the suites spawned and drop
// what they created, then exit.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`[bench] ${signal}: cleaning up\n`)
    runInterruptCleanups(10_000).finally(() => process.exit(130))
  })
}

const results: Record<string, unknown> = {}
let failed = false
for (const name of requested.length > 0 ? requested : Object.keys(suites)) {
  const started = Date.now()
  process.stderr.write(`[bench] ${name}: running\n`)
  try {
    const { default: run } = await suites[name]()
    results[name] = await run()
    process.stderr.write(`[bench] ${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  } catch (error) {
    failed = true
    results[name] = { error: error instanceof Error ? error.message : String(error) }
    process.stderr.write(`[bench] ${name}: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  }
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n')
// Providers and pools a suite forgot would keep the event loop alive.
process.exit(failed ? 1 : 0)
