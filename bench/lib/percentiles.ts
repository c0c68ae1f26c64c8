/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

/** Rounded to 0.01, the precision every benchmark reports milliseconds with. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100
}

export function latencySummary(samples: number[]): { p50: number; p99: number; samples: number } {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: round2(percentile(sorted, 50)), p99: round2(percentile(sorted, 99)), samples: sorted.length }
}
