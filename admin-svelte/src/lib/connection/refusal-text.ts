// What the admin tells the user when the server refused a change
// (`botsync:refused`, reasons in @botsync/shared-docs' refusal.ts).
const TEXTS: Record<string, string> = {
  'read-only': 'You can only view this space; your change was not saved.',
  'role-changed': 'You are a viewer in this space now: your change was not saved.',
  'space-deleting': 'This space is being deleted: it can only be viewed until an owner restores it.',
  'document-too-large': 'This document has reached the server’s size limit: your latest change was not saved. Remove content to make room.',
  'invalid-update': 'The server could not apply your change (it was malformed) and did not save it. Reload the page.',
  'rate-limited': 'Too many changes at once: the rest are sent again in a moment.',
  'too-much-waiting': 'The server is holding too many changes that wait for content it does not have yet: your latest change was not saved. Reload the page.',
}

export function refusalText(reason: string): string {
  return TEXTS[reason] ?? `The server refused a change (${reason}).`
}

/**
 * The server made this connection read-only because the user's role in the
 * space was lowered: `role-changed` (per-space roles; `access-changed` is
 * the name of the same notice before them).
 */
export function isRoleChange(reason: string): boolean {
  return reason === 'role-changed' || reason === 'access-changed'
}
