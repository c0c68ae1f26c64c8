// What a reader is told when the page cannot show the content: a sentence
// for a person, never the server's code (which stays in a data- attribute
// for tests and support). The codes are the server's AccessDenied reasons
// (server/src/auth/authenticator.ts, telegram-init-data.ts).

export type LaunchProblem =
  /** Opened outside Telegram: no launch data at all. */
  | { kind: 'no-launch' }
  /** The server refused the launch data (code as it said). */
  | { kind: 'refused'; code: string }
  /** The server could not be reached or answered something else. */
  | { kind: 'unreachable' }

export function problemSentence(problem: LaunchProblem): string {
  if (problem.kind === 'no-launch') return 'This page shows what a Telegram bot has published, and it opens from inside that bot.'
  if (problem.kind === 'unreachable') return 'The page could not load. Check your connection, then try again.'
  switch (problem.code) {
    case 'init-data-expired':
      return 'This link has expired. Open the page again from the bot.'
    case 'miniapp-disabled':
      return 'This page is not available yet: its bot is not set up.'
    case 'init-data-invalid-signature':
    case 'init-data-invalid':
    case 'init-data-missing-hash':
    case 'missing-token':
    case 'invalid-token':
      return 'This page could not check that it was opened from its bot. Open it again from the bot.'
    default:
      return 'This page cannot be shown right now. Open it again from the bot.'
  }
}
