/** Every benchmark suite: `bench/suites/<name>.ts` exporting `default async function run()`. */
export const suites = {
  fanout: () => import('./fanout.ts'),
}
