/**
 * Latency summaries for the load benchmarks: nearest-rank percentiles over a sample of
 * milliseconds. The one percentile implementation of `bench/` outside `wal_bench.ts`.
 *
 * @module
 */

/** Percentiles of one latency sample, in milliseconds. */
export interface LatencySummary {
  /** Number of samples. */
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/**
 * The nearest-rank percentile of an ascending sample.
 *
 * @param sorted Samples in ascending order (not empty).
 * @param fraction In (0, 1], e.g. 0.99.
 * @returns The smallest sample with at least `fraction` of the samples at or below it.
 * @throws {RangeError} When the sample is empty or the fraction is out of range.
 * @example
 * ```ts
 * import { percentile } from "./latency.ts";
 * const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
 * if (percentile(sorted, 0.99) !== 99 || percentile(sorted, 0.5) !== 50) throw new Error();
 * ```
 */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) throw new RangeError("Cannot take a percentile: no samples");
  if (!(fraction > 0 && fraction <= 1)) {
    throw new RangeError(`Cannot take percentile ${fraction}: expected a fraction in (0, 1]`);
  }
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/**
 * Summarises a latency sample (the array is sorted in place).
 *
 * @param samplesMs Latencies in milliseconds.
 * @returns Count, p50/p95/p99, max and mean; all zero for an empty sample.
 * @example
 * ```ts
 * import { summarize } from "./latency.ts";
 * const s = summarize(Float64Array.from([3, 1, 2, 4]));
 * if (s.p50Ms !== 2 || s.maxMs !== 4 || s.meanMs !== 2.5) throw new Error();
 * ```
 */
export function summarize(samplesMs: Float64Array): LatencySummary {
  if (samplesMs.length === 0) {
    return { count: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
  }
  const sorted = samplesMs.sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    p50Ms: round3(percentile(sorted, 0.5)),
    p95Ms: round3(percentile(sorted, 0.95)),
    p99Ms: round3(percentile(sorted, 0.99)),
    maxMs: round3(sorted[sorted.length - 1]!),
    meanMs: round3(sum / sorted.length),
  };
}

/** Rounds to 3 decimals, the precision the results files keep. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
