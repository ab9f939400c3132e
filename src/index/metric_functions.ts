/**
 * The metrics in plain TypeScript: the one scalar definition of each, used by
 * the reference kernel and by the API edge to turn distances into scores.
 *
 * @module
 */

import type { Metric } from "../kernel/mod.ts";

/** Squared Euclidean distance. */
export function l2Squared(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum;
}

/** Dot product. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** 1 − a·b for vectors already normalized. */
export function cosineDistance(a: Float32Array, b: Float32Array): number {
  return 1 - dot(a, b);
}

/**
 * The core's distance under a metric (smaller is closer): squared L2, 1 − cos
 * on normalized vectors, or −dot.
 */
export function distance(metric: Metric, a: Float32Array, b: Float32Array): number {
  if (metric === "l2") return l2Squared(a, b);
  return metric === "cosine" ? cosineDistance(a, b) : -dot(a, b);
}

/**
 * The score an API client sees for a core distance (Qdrant's convention):
 * cosine similarity for cosine, the dot product for dot, Euclidean distance
 * for l2.
 *
 * @example
 * ```ts
 * import { scoreOf } from "./metric_functions.ts";
 * if (scoreOf("l2", 25) !== 5 || scoreOf("cosine", 0.25) !== 0.75 || scoreOf("dot", -3) !== 3) {
 *   throw new Error("wrong score");
 * }
 * ```
 */
export function scoreOf(metric: Metric, coreDistance: number): number {
  if (metric === "l2") return Math.sqrt(Math.max(0, coreDistance));
  return metric === "cosine" ? 1 - coreDistance : -coreDistance;
}
