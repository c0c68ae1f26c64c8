// `npm run bench [suite…]`: runs the named suites (default: all) one after
// another and prints ONE JSON object { "<suite>": <result>, … } on stdout.
// Progress goes to stderr. Exit code 1 if a suite failed (its entry is {error}).
import { suites } from './suites/index.ts'

const requested = process.argv.slice(2)
const unknown = requested.filter((name) => !(name in suites))
if (unknown.length) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}\n`)
  process.exit(2)
}

const results: Record<string, unknown> = {}
let failed = false
for (const name of requested.length ? requested : Object.keys(suites)) {
  process.stderr.write(`[bench] ${name}\n`)
  try {
    const suite = await suites[name as keyof typeof suites]()
    results[name] = await suite.default()
  } catch (error) {
    failed = true
    process.stderr.write(`[bench] ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    results[name] = { error: error instanceof Error ? error.message : String(error) }
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
process.exit(failed ? 1 : 0)
