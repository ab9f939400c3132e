/**
 * The scalar TypeScript reference of the distance kernel: the same interface
 * as the WASM SIMD kernel, computed one float at a time, so one test suite
 * checks the two against each other.
 *
 * @module
 */

import type { DistanceKernel, Metric, TopK } from "../kernel/mod.ts";
import { cosineDistance, distance, dot, l2Squared } from "./metric_functions.ts";

/** The scalar reference kernel. */
export class ScalarDistanceKernel implements DistanceKernel {
  l2Squared(a: Float32Array, b: Float32Array): number {
    return l2Squared(a, b);
  }

  dot(a: Float32Array, b: Float32Array): number {
    return dot(a, b);
  }

  cosineDistance(a: Float32Array, b: Float32Array): number {
    return cosineDistance(a, b);
  }

  normalize(vector: Float32Array): Float32Array | undefined {
    const norm = Math.sqrt(dot(vector, vector));
    if (!(norm > 0)) return undefined;
    return vector.map((value) => value / norm);
  }

  scoreBatch(metric: Metric, query: Float32Array, rows: Float32Array): Float32Array {
    const dim = query.length;
    const out = new Float32Array(rows.length / dim);
    for (let i = 0; i < out.length; i++) {
      out[i] = distance(metric, query, rows.subarray(i * dim, (i + 1) * dim));
    }
    return out;
  }

  topK(metric: Metric, query: Float32Array, rows: Float32Array, k: number): TopK {
    const scores = this.scoreBatch(metric, query, rows);
    const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]! || a - b);
    const top = order.slice(0, k);
    return {
      indexes: Uint32Array.from(top),
      distances: Float32Array.from(top, (i) => scores[i]!),
    };
  }
}
