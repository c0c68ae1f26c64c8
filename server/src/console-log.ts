import { formatWithOptions } from 'node:util'
import type { Logger } from './logger.ts'

/**
 * Hocuspocus, y-protocols and ws report trouble with console.error/warn
 * (a hook that threw, a frame that did not decode, a socket error), often
 * with an Error whose stack spans many lines, in the middle of the JSON log.
 * Their calls cannot be configured away (`quiet` only silences the start
 * screen), so the process's console writes into the log instead: one JSON
 * line each, `event: "console"`, the Error (if any) as pino's `err` (its
 * stack a single string field) and the rest formatted as the message.
 * Installed by main.ts for the process; tests running servers in-process
 * keep their console.
 */
export function routeConsoleToLog(log: Logger): void {
  const route =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const err = args.find((arg) => arg instanceof Error)
      const rest = args.filter((arg) => arg !== err)
      log[level]({ event: 'console', ...(err ? { err } : {}) }, rest.length ? formatWithOptions({ breakLength: Infinity }, ...rest) : err instanceof Error ? err.message : '')
    }
  console.error = route('error')
  console.warn = route('warn')
  console.log = route('info')
  console.info = route('info')
  console.debug = route('debug')
  console.trace = route('debug')
}

/**
 * The last words of a process that is going down anyway, as one JSON line
 * (Node would print the stack over many lines): an exception nothing caught
 * leaves the process in an unknown state, so it still exits.
 */
export function logFatalErrors(log: Logger): void {
  const fatal = (event: string) => (error: unknown) => {
    log.fatal({ event, err: error }, error instanceof Error ? error.message : String(error))
    process.exit(1)
  }
  process.on('uncaughtException', fatal('uncaught-exception'))
  process.on('unhandledRejection', fatal('unhandled-rejection'))
}
