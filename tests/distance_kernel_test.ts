/**
 * One suite, two implementations: the WASM SIMD kernel and the scalar
 * TypeScript reference must agree on every operation at random dimensions
 * 1..4096 (multiples of 4 or not). Seeded: prints SEED, accepts SEED=.
 */

import assert from "node:assert/strict";
import {
  type DistanceKernel,
  loadKernel,
  type Metric,
  WasmDistanceKernel,
} from "../src/kernel/mod.ts";
import { ScalarDistanceKernel } from "../src/index/mod.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";

const kernels: [string, DistanceKernel][] = [
  ["wasm-simd", new WasmDistanceKernel(await loadKernel())],
  ["scalar-ts", new ScalarDistanceKernel()],
];
const reference = new ScalarDistanceKernel();
const METRICS: Metric[] = ["l2", "cosine", "dot"];

/** Relative tolerance of float32 sums in different orders, scaled by the dimension. */
function close(actual: number, expected: number, dimension: number, what: string) {
  const tolerance = 1e-5 * Math.sqrt(dimension) * Math.max(1, Math.abs(expected));
  if (Math.abs(actual - expected) > tolerance) {
    throw new Error(`${what}: ${actual} vs reference ${expected} (dim ${dimension})`);
  }
}

function randomDimension(random: () => number): number {
  const roll = random();
  if (roll < 0.3) return 1 + Math.floor(random() * 20); // tails of every length
  return 1 + Math.floor(random() * 4096);
}

for (const [name, kernel] of kernels) {
  Deno.test(`${name}: hand-computed distances`, () => {
    const a = new Float32Array([1, 2, 3, 4, 5]);
    const b = new Float32Array([5, 4, 3, 2, 1]);
    assert.deepEqual(kernel.l2Squared(a, b), 40);
    assert.deepEqual(kernel.dot(a, b), 35);
    const unit = new Float32Array([0.6, 0.8]);
    assert.ok(Math.abs(kernel.cosineDistance(unit, unit)) < 1e-6);
    assert.deepEqual(kernel.normalize(new Float32Array(7)), undefined);
    assert.deepEqual(Array.from(kernel.normalize(new Float32Array([3, 4]))!), [
      Math.fround(0.6),
      Math.fround(0.8),
    ]);
  });

  Deno.test(`${name}: pairwise distances match the reference at random dimensions`, () => {
    const seed = testSeed(`${name} pairwise`);
    const random = seededRandom(seed);
    for (let trial = 0; trial < 200; trial++) {
      const dimension = randomDimension(random);
      const a = randomVector(random, dimension);
      const b = randomVector(random, dimension);
      const context = `SEED=${seed} trial ${trial}`;
      close(kernel.l2Squared(a, b), reference.l2Squared(a, b), dimension, `l2 ${context}`);
      close(kernel.dot(a, b), reference.dot(a, b), dimension, `dot ${context}`);
      const na = reference.normalize(a)!;
      const nb = reference.normalize(b)!;
      close(kernel.cosineDistance(na, nb), reference.cosineDistance(na, nb), dimension, context);
      const normalized = kernel.normalize(a)!;
      close(reference.dot(normalized, normalized), 1, dimension, `norm ${context}`);
    }
  });

  Deno.test(`${name}: batch scores and top-k match the reference`, () => {
    const seed = testSeed(`${name} batch`);
    const random = seededRandom(seed);
    for (let trial = 0; trial < 20; trial++) {
      const dimension = randomDimension(random);
      const rows = 1 + Math.floor(random() * 300);
      const query = randomVector(random, dimension);
      const data = randomVector(random, rows * dimension);
      const metric = METRICS[trial % 3]!;
      const scores = kernel.scoreBatch(metric, query, data);
      const expected = reference.scoreBatch(metric, query, data);
      assert.deepEqual(scores.length, rows);
      for (let i = 0; i < rows; i++) {
        close(scores[i]!, expected[i]!, dimension, `row ${i} SEED=${seed}`);
      }
      const k = 1 + Math.floor(random() * 20);
      const top = kernel.topK(metric, query, data, k);
      assert.deepEqual(top.indexes.length, Math.min(k, rows));
      const sorted = [...expected].sort((x, y) => x - y);
      for (let i = 0; i < top.indexes.length; i++) {
        close(top.distances[i]!, sorted[i]!, dimension, `top ${i} SEED=${seed}`);
        close(expected[top.indexes[i]!]!, top.distances[i]!, dimension, `index ${i} SEED=${seed}`);
      }
      for (let i = 1; i < top.distances.length; i++) {
        assert.ok(top.distances[i - 1]! <= top.distances[i]!);
      }
    }
  });
}
