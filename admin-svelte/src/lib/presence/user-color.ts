// A stable, readable color per user id, so an admin keeps the same color on
// every page and every other admin's screen.
const PALETTE = ['#2f6f62', '#8a4f9e', '#b5532f', '#2d5f9a', '#8b6b1f', '#a13d5b', '#3d7a34', '#5b5fa8']

export function userColor(userId: string): string {
  let hash = 0
  for (let i = 0; i < userId.length; i++) hash = (hash * 31 + userId.charCodeAt(i)) >>> 0
  return PALETTE[hash % PALETTE.length]
}

export function initials(name: string): string {
  const parts = name
    .trim()
    .split(/[\s._@-]+/)
    .filter(Boolean)
  const letters = parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] ?? '?').slice(0, 2)
  return letters.toUpperCase()
}
