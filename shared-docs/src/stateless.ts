/**
 * A stateless message's payload as a JSON object, or null for anything else
 * (not a string, not JSON, an array, null). Never throws: payloads come from
 * the network. Each message type (refusal.ts, catch-up.ts) checks its fields.
 */
export function parseStatelessObject(payload: unknown): Record<string, unknown> | null {
  if (typeof payload !== 'string') return null
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  return value as Record<string, unknown>
}
