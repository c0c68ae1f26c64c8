/**
 * BENCH_SERVER_NODE_ARGS: flags for node itself in every server process a
 * benchmark starts (botsync and vanilla alike), not for the bench and its
 * client threads — to profile them (`--cpu-prof --cpu-prof-dir=/tmp/prof`,
 * `--trace-gc`, `--heapsnapshot-signal=SIGUSR2`) or to try a V8 setting on
 * both sides of a comparison. Passed on the command line (ServerProcess'
 * nodeArgs), since NODE_OPTIONS refuses some of them.
 */
export function serverNodeArgs(...extra: string[]): string[] {
  return [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), ...extra]
}
