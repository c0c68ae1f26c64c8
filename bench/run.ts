// `npm run bench [suite…]`: runs the named suites (default: all) one after
// another and prints ONE JSON object { "<suite>": <result>, … } on stdout.
// Progress goes to stderr.
import { suites } from './suites/index.ts'

const requested = process.argv.slice(2)
const names = requested.length > 0 ? requested : Object.keys(suites)
const unknown = names.filter((name) => !Object.hasOwn(suites, name))
if (unknown.length > 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}\n`)
  process.exit(2)
}

const results: Record<string, unknown> = {}
let failed = false
for (const name of names) {
  process.stderr.write(`bench: ${name} …\n`)
  const started = performance.now()
  try {
    const suite = await suites[name as keyof typeof suites]()
    results[name] = await suite.default()
  } catch (error) {
    failed = true
    results[name] = { error: error instanceof Error ? error.message : String(error) }
  }
  process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
// Suites clean up what they start; exit anyway so a stray handle cannot hang CI.
process.exit(failed ? 1 : 0)
