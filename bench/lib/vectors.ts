/**
 * Seeded vectors for the ingest benchmarks, and the checksum both the Deno and the Node side of a
 * comparison print to show they got the same bytes.
 *
 * @module
 */

import { seededRandom } from "../../tests/support/seeded_random.ts";

/**
 * `count × dimension` uniform floats in [−1, 1), row-major, from a seed (mulberry32).
 *
 * @param count Rows.
 * @param dimension Row length.
 * @param seed Generator seed.
 * @returns The vectors.
 */
export function seededVectors(count: number, dimension: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const vectors = new Float32Array(count * dimension);
  for (let i = 0; i < vectors.length; i++) vectors[i] = random() * 2 - 1;
  return vectors;
}

/**
 * Sum of every value in float64, in order (the Node side computes the same).
 *
 * @param values The vectors.
 * @returns The sum.
 */
export function vectorChecksum(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum;
}
