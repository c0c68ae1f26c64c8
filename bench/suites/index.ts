// Every benchmark suite, by name. `npm run bench -- <name>…` runs the named
// ones; without names it runs them all, in this order.
export const suites: Record<string, () => Promise<{ default: () => Promise<Record<string, unknown>> }>> = {
  durability: () => import('./durability.ts'),
  fanout: () => import('./fanout.ts'),
  bot: () => import('./bot.ts'),
  readers: () => import('./readers.ts'),
  readers10k: () => import('./readers10k.ts'),
  logins: () => import('./logins.ts'),
  access: () => import('./access.ts'),
  integrity: () => import('./integrity.ts'),
  longlog: () => import('./longlog.ts'),
  pending: () => import('./pending.ts'),
  history: () => import('./history.ts'),
  formatting: () => import('./formatting.ts'),
  preview: () => import('./preview.ts'),
  'admin-load': () => import('./admin-load.ts'),
  'flow-map': () => import('./flow-map.ts'),
  cold: () => import('./cold.ts'),
}
