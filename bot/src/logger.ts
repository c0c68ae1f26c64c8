import pino from 'pino'

export type Logger = pino.Logger

/** Structured JSON logs on stdout, one object a line (like the server's). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { component: 'bot' } })
}
