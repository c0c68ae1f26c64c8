// Every benchmark suite; `bench/run.ts` runs them in this order.
export const suites = {
  bot: () => import('./bot.ts'),
}
