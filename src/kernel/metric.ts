/**
 * The distance metrics and their stable numeric codes shared with the WASM
 * kernel. Inside the core a smaller distance is always closer:
 * `l2` → squared Euclidean distance, `cosine` → 1 − cos (vectors normalized at
 * write), `dot` → −dot. Similarity scores exist only at the API edge.
 *
 * @module
 */

/** A collection's distance metric. */
export type Metric = "cosine" | "l2" | "dot";

/** Every metric, in code order. */
export const METRICS: readonly Metric[] = Object.freeze(["l2", "cosine", "dot"]);

/** Stable codes the kernel understands (`distance.ts`: METRIC_L2, METRIC_COSINE, METRIC_DOT). */
export const METRIC_CODES: Readonly<Record<Metric, number>> = Object.freeze({
  l2: 0,
  cosine: 1,
  dot: 2,
});

/**
 * Narrows an unknown value to a metric.
 *
 * @param value the candidate
 * @returns whether it names a metric
 *
 * @example
 * ```ts
 * import { isMetric } from "./metric.ts";
 * if (!isMetric("cosine") || isMetric("hamming")) throw new Error("isMetric is wrong");
 * ```
 */
export function isMetric(value: unknown): value is Metric {
  return value === "cosine" || value === "l2" || value === "dot";
}
