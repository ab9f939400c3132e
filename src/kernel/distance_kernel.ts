/**
 * The distance kernel's interface: every scoring operation the WASM SIMD
 * module performs, with one implementation in WASM ({@linkcode WasmDistanceKernel})
 * and a scalar TypeScript reference (`src/index/scalar_distance_kernel.ts`).
 * One shared test suite runs both.
 *
 * @module
 */

import type { Metric } from "./metric.ts";

/** k nearest rows of a batch: row indexes and their distances, ascending. */
export interface TopK {
  readonly indexes: Uint32Array;
  readonly distances: Float32Array;
}

/** Scoring operations over float32 vectors of any dimension 1..4096. */
export interface DistanceKernel {
  /** Squared Euclidean distance. */
  l2Squared(a: Float32Array, b: Float32Array): number;
  /** Dot product. */
  dot(a: Float32Array, b: Float32Array): number;
  /** 1 − a·b for vectors already normalized. */
  cosineDistance(a: Float32Array, b: Float32Array): number;
  /** `vector` scaled to unit length; undefined for a zero vector. */
  normalize(vector: Float32Array): Float32Array | undefined;
  /** Distances (core convention) from `query` to each row of `rows` (row-major, `dim` wide). */
  scoreBatch(metric: Metric, query: Float32Array, rows: Float32Array): Float32Array;
  /** Exact k nearest rows; ties keep the lower index first. */
  topK(metric: Metric, query: Float32Array, rows: Float32Array, k: number): TopK;
}
