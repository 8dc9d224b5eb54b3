/** Nearest-rank percentile of an ascending-sorted array (p in [0, 100]); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function sortedCopy(values: Iterable<number>): Float64Array {
  return Float64Array.from(values).sort();
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median with min–max over repeated runs; NaN values (a run that could not measure) are left out. */
export function spread(values: readonly number[]): Spread {
  const s = sortedCopy(values.filter((v) => !Number.isNaN(v)));
  if (s.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number, n: s.length };
}
