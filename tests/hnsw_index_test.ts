/**
 * The index facade: argument checks before WASM, upsert/replace/delete
 * semantics, metrics and scores, several segments, compaction, and the brute
 * force index against the scalar reference.
 */

import assert from "node:assert/strict";
import { loadKernel } from "../src/kernel/mod.ts";
import {
  BruteForceIndex,
  checkIntegrity,
  distance,
  HnswIndex,
  type PointId,
  ScalarDistanceKernel,
  scoreOf,
} from "../src/index/mod.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";

const kernel = await loadKernel();
const vec = (...values: number[]) => new Float32Array(values);

Deno.test("bad arguments throw before reaching the kernel and change nothing", () => {
  const index = new HnswIndex(kernel, { dimension: 3, metric: "cosine" });
  index.upsert("a", vec(1, 0, 0));
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [
      () => index.upsert("b", vec(1, 0)),
      RangeError,
      /Cannot upsert point "b": dimension is 2, expected 3/,
    ],
    [() => index.upsert("b", vec(1, NaN, 0)), RangeError, /vector\[1\] is NaN/],
    [() => index.upsert("b", vec(1, Infinity, 0)), RangeError, /vector\[1\] is Infinity/],
    [() => index.upsert("b", vec(0, 0, 0)), RangeError, /zero vector/],
    [() => index.upsert("", vec(1, 0, 0)), RangeError, /id is 0 bytes/],
    [() => index.upsert("x".repeat(257), vec(1, 0, 0)), RangeError, /id is 257 bytes/],
    [() => index.upsert(-1, vec(1, 0, 0)), RangeError, /safe integer/],
    [() => index.upsert(1.5, vec(1, 0, 0)), RangeError, /safe integer/],
    [
      () => index.upsert({} as unknown as PointId, vec(1, 0, 0)),
      TypeError,
      /expected a string or an integer/,
    ],
    [() => index.upsert("b", [1, 0, 0] as unknown as Float32Array), TypeError, /Float32Array/],
    [() => index.search(vec(1, 0, 0), 0), RangeError, /Invalid k: 0/],
    [() => index.search(vec(1, 0, 0), 1001), RangeError, /Invalid k: 1001/],
    [() => index.search(vec(1, 0, 0), 1, { efSearch: 0 }), RangeError, /Invalid efSearch/],
    [() => index.search(vec(1, 0), 1), RangeError, /Cannot search: dimension is 2, expected 3/],
    [
      () => new HnswIndex(kernel, { dimension: 3, metric: "hamming" as "l2" }),
      TypeError,
      /Invalid metric/,
    ],
    [() => new HnswIndex(kernel, { dimension: 0, metric: "l2" }), RangeError, /Invalid dimension/],
    [
      () => new HnswIndex(kernel, { dimension: 4097, metric: "l2" }),
      RangeError,
      /Invalid dimension/,
    ],
    [() => new HnswIndex(kernel, { dimension: 3, metric: "l2", m: 1 }), RangeError, /Invalid m/],
  ];
  for (const [run, type, message] of cases) {
    assert.throws(run, (e) => e instanceof type && message.test((e as Error).message));
  }
  assert.equal(index.size, 1);
  assert.deepEqual(index.search(vec(1, 0, 0), 5).map((hit) => hit.id), ["a"]);
});

Deno.test("upsert replaces, delete removes, string and integer ids are distinct", () => {
  const index = new HnswIndex(kernel, { dimension: 2, metric: "l2" });
  index.upsert("7", vec(0, 0));
  index.upsert(7, vec(10, 10));
  assert.equal(index.size, 2);
  index.upsert("7", vec(5, 5)); // replace
  assert.equal(index.size, 2);
  assert.deepEqual(Array.from(index.vector("7")!), [5, 5]);
  const hits = index.search(vec(0, 0), 10);
  assert.deepEqual(hits.map((hit) => hit.id), ["7", 7]);
  assert.equal(hits[0]!.distance, 50);
  assert.equal(index.delete("7"), true);
  assert.equal(index.delete("7"), false);
  assert.equal(index.has("7"), false);
  assert.deepEqual(index.search(vec(5, 5), 10).map((hit) => hit.id), [7]);
  assert.equal(index.deletedCount, 2);
});

Deno.test("scores follow each metric's convention", () => {
  const cases = [
    { metric: "l2" as const, score: 5 }, // Euclidean distance from (0,0) to (3,4)
    { metric: "dot" as const, score: 3 },
    { metric: "cosine" as const, score: 0.6 },
  ];
  for (const { metric, score } of cases) {
    const index = new HnswIndex(kernel, { dimension: 2, metric });
    index.upsert("p", vec(3, 4));
    const query = metric === "l2" ? vec(0, 0) : vec(1, 0);
    const [hit] = index.search(query, 1);
    assert.ok(
      Math.abs(scoreOf(metric, hit!.distance) - score) < 1e-6,
      `${metric}: ${hit!.distance}`,
    );
  }
});

Deno.test("several segments are searched together and merged", () => {
  const seed = testSeed("several segments");
  const random = seededRandom(seed);
  const options = { dimension: 8, metric: "l2" as const, segmentSlotsMax: 300 };
  const exact = new BruteForceIndex(kernel, options);
  const hnsw = new HnswIndex(kernel, options);
  for (let i = 0; i < 1000; i++) {
    const v = randomVector(random, 8);
    exact.upsert(i, v);
    hnsw.upsert(i, v);
  }
  assert.equal(exact.segments.length, 4);
  assert.equal(hnsw.segments.length, 4);
  let found = 0;
  for (let q = 0; q < 50; q++) {
    const query = randomVector(random, 8);
    const truth = exact.search(query, 10);
    const approx = hnsw.search(query, 10, { efSearch: 128 });
    assert.equal(approx.length, 10);
    const ids = new Set(truth.map((hit) => hit.id));
    found += approx.filter((hit) => ids.has(hit.id)).length;
  }
  assert.ok(found / 500 >= 0.95, `recall ${found / 500} (SEED=${seed})`);
  assert.deepEqual(checkIntegrity(hnsw).problems, []);
});

Deno.test("brute force index equals the scalar reference exactly", () => {
  const seed = testSeed("brute force vs reference");
  const random = seededRandom(seed);
  const reference = new ScalarDistanceKernel();
  for (const metric of ["l2", "cosine", "dot"] as const) {
    const index = new BruteForceIndex(kernel, { dimension: 13, metric });
    const rows: Float32Array[] = [];
    for (let i = 0; i < 500; i++) {
      const v = randomVector(random, 13);
      rows.push(metric === "cosine" ? reference.normalize(v)! : v);
      index.upsert(i, v);
    }
    const query = randomVector(random, 13);
    const q = metric === "cosine" ? reference.normalize(query)! : query;
    const expected = rows.map((row, i) => ({ i, d: distance(metric, q, row) }))
      .sort((a, b) => a.d - b.d).slice(0, 10);
    const hits = index.search(query, 10);
    hits.forEach((hit, r) => {
      assert.ok(Math.abs(hit.distance - expected[r]!.d) < 1e-4, `${metric} rank ${r} SEED=${seed}`);
    });
  }
});

Deno.test("compaction reclaims tombstones and keeps every live point", () => {
  const seed = testSeed("compaction");
  const random = seededRandom(seed);
  const index = new HnswIndex(kernel, { dimension: 16, metric: "cosine" });
  for (let i = 0; i < 3000; i++) index.upsert(`p${i}`, randomVector(random, 16));
  for (let i = 0; i < 3000; i += 2) index.delete(`p${i}`);
  for (let i = 1; i < 3000; i += 4) index.upsert(`p${i}`, randomVector(random, 16));
  const before = new Map([...index.entries()].map(([id, v]) => [id, Array.from(v)]));
  assert.ok(index.deletedCount > 0);
  index.compact();
  assert.equal(index.deletedCount, 0);
  assert.equal(index.size, 1500);
  for (const [id, vector] of index.entries()) assert.deepEqual(Array.from(vector), before.get(id));
  assert.deepEqual(checkIntegrity(index).problems, []);
  const [top] = index.search(index.vector("p1")!, 1);
  assert.equal(top!.id, "p1");
});

Deno.test("copyEntriesInto writes what entries() yields, across segments and tombstones", () => {
  const seed = testSeed("copy-entries");
  const random = seededRandom(seed);
  const index = new HnswIndex(kernel, { dimension: 12, metric: "cosine", segmentSlotsMax: 64 });
  for (let i = 0; i < 300; i++) index.upsert(i % 4 === 0 ? i : `p${i}`, randomVector(random, 12));
  for (let i = 1; i < 300; i += 7) index.delete(`p${i}`);
  assert.ok(index.segments.length > 1);
  const expected = [...index.entries()];
  const ids: PointId[] = ["before"];
  const target = new Float32Array((index.size + 1) * 12).fill(-1);
  index.copyEntriesInto(target, 1, ids);
  assert.deepEqual(ids, ["before", ...expected.map(([id]) => id)]);
  assert.deepEqual(Array.from(target.subarray(0, 12)), new Array(12).fill(-1)); // row 0 untouched
  expected.forEach(([, vector], row) => {
    assert.deepEqual(
      Array.from(target.subarray((row + 1) * 12, (row + 2) * 12)),
      Array.from(vector),
    );
  });
});
