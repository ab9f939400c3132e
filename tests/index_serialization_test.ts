/**
 * Serialize → load gives an index that answers every query identically,
 * keeps accepting writes, and refuses damaged bytes with a CorruptionError.
 */

import assert from "node:assert/strict";
import { loadKernel } from "../src/kernel/mod.ts";
import { BruteForceIndex, checkIntegrity, HnswIndex } from "../src/index/mod.ts";
import { CorruptionError } from "../src/errors.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";

const kernel = await loadKernel();

Deno.test("a loaded HNSW index answers exactly like the original", () => {
  const seed = testSeed("serialize round trip");
  const random = seededRandom(seed);
  const index = new HnswIndex(kernel, { dimension: 20, metric: "cosine", segmentSlotsMax: 1500 });
  for (let i = 0; i < 4000; i++) {
    index.upsert(i % 3 === 0 ? `id-${i}` : i, randomVector(random, 20));
  }
  for (let i = 0; i < 4000; i += 7) index.delete(i % 3 === 0 ? `id-${i}` : i);
  const loaded = HnswIndex.load(kernel, index.serialize());
  assert.equal(loaded.size, index.size);
  assert.equal(loaded.segments.length, 3);
  assert.deepEqual(checkIntegrity(loaded).problems, []);
  const queries = Array.from({ length: 100 }, () => randomVector(random, 20));
  for (const query of queries) {
    assert.deepEqual(loaded.search(query, 10), index.search(query, 10), `SEED=${seed}`);
    const allow = Array.from({ length: 300 }, () => Math.floor(random() * 4000));
    assert.deepEqual(loaded.search(query, 5, { allow }), index.search(query, 5, { allow }));
  }
  // Both continue identically: the level generator's state travels too.
  const more = randomVector(random, 20);
  index.upsert("new", more);
  loaded.upsert("new", more);
  assert.deepEqual(loaded.search(more, 10), index.search(more, 10));
  assert.deepEqual(loaded.serialize(), index.serialize());
});

Deno.test("a brute force index round-trips and the kinds are not confused", () => {
  const index = new BruteForceIndex(kernel, { dimension: 3, metric: "dot" });
  index.upsert("a", new Float32Array([1, 2, 3]));
  const bytes = index.serialize();
  const loaded = BruteForceIndex.load(kernel, bytes);
  assert.deepEqual(Array.from(loaded.vector("a")!), [1, 2, 3]);
  assert.throws(() => HnswIndex.load(kernel, bytes), CorruptionError);
});

Deno.test("damaged bytes are refused with CorruptionError", () => {
  const index = new HnswIndex(kernel, { dimension: 4, metric: "l2" });
  for (let i = 0; i < 50; i++) index.upsert(i, new Float32Array([i, 1, 2, 3]));
  const bytes = index.serialize();
  for (const cut of [0, 4, 8, 12, 40, bytes.length - 1]) {
    assert.throws(() => HnswIndex.load(kernel, bytes.slice(0, cut)), CorruptionError, `cut ${cut}`);
  }
  const extended = new Uint8Array(bytes.length + 1);
  extended.set(bytes);
  assert.throws(() => HnswIndex.load(kernel, extended), CorruptionError);
  const badMagic = bytes.slice();
  badMagic[0] = 0;
  assert.throws(() => HnswIndex.load(kernel, badMagic), CorruptionError);
});

Deno.test("graph + live rows restore the index without rebuilding, tombstones included", () => {
  const seed = testSeed("graph round trip");
  const random = seededRandom(seed);
  const index = new HnswIndex(kernel, { dimension: 10, metric: "cosine", segmentSlotsMax: 900 });
  for (let i = 0; i < 2500; i++) index.upsert(i % 2 ? `p${i}` : i, randomVector(random, 10));
  for (let i = 0; i < 2500; i += 5) index.delete(i % 2 ? `p${i}` : i);
  const graph = index.exportGraph();
  const rows = [...index.entries()];
  const loaded = HnswIndex.loadGraph(kernel, graph, {
    count: rows.length,
    id: (row) => rows[row]![0],
    vector: (row) => rows[row]![1],
  });
  assert.equal(loaded.size, index.size);
  assert.equal(loaded.deletedCount, index.deletedCount);
  assert.deepEqual(loaded.serialize(), index.serialize(), `SEED=${seed}`);
  assert.deepEqual(checkIntegrity(loaded).problems, []);
  // The live vectors (10 floats each) are not in it.
  assert.ok(graph.byteLength < index.serialize().byteLength - rows.length * 40);
});

Deno.test("a graph refuses rows that do not match it", () => {
  const index = new HnswIndex(kernel, { dimension: 4, metric: "l2" });
  for (let i = 0; i < 30; i++) index.upsert(i, new Float32Array([i, 0, 0, 1]));
  const graph = index.exportGraph();
  const rows = [...index.entries()];
  const source = (count: number, dimension = 4) => ({
    count,
    id: (row: number) => rows[row]![0],
    vector: (row: number) => rows[row]![1].subarray(0, dimension),
  });
  assert.throws(() => HnswIndex.loadGraph(kernel, graph, source(29)), CorruptionError);
  assert.throws(() => HnswIndex.loadGraph(kernel, graph, source(30, 3)), CorruptionError);
  assert.throws(() => HnswIndex.loadGraph(kernel, graph.slice(0, -1), source(30)), CorruptionError);
  const empty = new HnswIndex(kernel, { dimension: 4, metric: "l2" });
  const restored = HnswIndex.loadGraph(kernel, empty.exportGraph(), source(0));
  assert.equal(restored.size, 0);
});
