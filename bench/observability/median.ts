/**
 * The median of the observability benchmark's per-round figures. (No other
 * `median` exists under `bench/lib`; the latency summaries there use
 * nearest-rank percentiles, which differ for an even count.)
 *
 * @module
 */

/**
 * The median: the middle value, or the mean of the two middle values for an even count.
 *
 * @param values The sample (not changed).
 * @returns The median; NaN for an empty sample.
 * @example
 * ```ts
 * import { median } from "./median.ts";
 * if (median([3, 1, 2]) !== 2 || median([4, 1, 3, 2]) !== 2.5) throw new Error();
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
