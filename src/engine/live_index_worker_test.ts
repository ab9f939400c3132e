import assert from "node:assert/strict";
import { randomVector, seededRandom, testSeed } from "../../tests/support/seeded_random.ts";
import { checkIntegrity, HnswIndex, type PointId } from "../index/mod.ts";
import { testKernel } from "./_engine_test_support.ts";
import { LiveIndex } from "./live_index.ts";

// The graph worker inserts batches while this thread writes, deletes and searches.

const DIMENSION = 12;

async function liveIndex(efConstruction: number): Promise<LiveIndex> {
  return new LiveIndex(await testKernel(), {
    dimension: DIMENSION,
    metric: "l2",
    m: 8,
    efConstruction,
    efSearch: 64,
  });
}

function yieldToWorker(random: () => number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, random() < 0.5 ? 0 : 1));
}

Deno.test("live index: writes, replacements and deletes while the worker builds — no id twice, none deleted, every vector its last", async () => {
  const seed = testSeed("live index worker churn");
  const random = seededRandom(seed);
  const index = await liveIndex(64);
  const live = new Map<PointId, Float32Array>();
  const deleted = new Set<PointId>();
  let nextId = 0;
  try {
    for (let round = 0; round < 60; round++) {
      for (let op = 0; op < 40; op++) {
        const roll = random();
        const ids = [...live.keys()];
        if (roll < 0.6 || ids.length === 0) {
          const vector = randomVector(random, DIMENSION);
          index.upsert(nextId, vector);
          live.set(nextId, vector);
          deleted.delete(nextId++);
        } else if (roll < 0.8) {
          const id = ids[Math.floor(random() * ids.length)]!;
          const vector = randomVector(random, DIMENSION);
          index.upsert(id, vector);
          live.set(id, vector);
        } else {
          const id = ids[Math.floor(random() * ids.length)]!;
          assert.ok(index.delete(id));
          live.delete(id);
          deleted.add(id);
        }
      }
      for (let q = 0; q < 3; q++) {
        const hits = index.search(randomVector(random, DIMENSION), 20);
        const ids = hits.map((hit) => hit.id);
        assert.equal(new Set(ids).size, ids.length, `round ${round}: an id returned twice`);
        for (const id of ids) assert.ok(!deleted.has(id), `round ${round}: deleted ${id} returned`);
        assert.equal(hits.length, Math.min(20, live.size));
      }
      assert.equal(index.size, live.size);
      await yieldToWorker(random);
    }
    await index.settle();
    assert.equal(index.pendingCount, 0);
    assert.equal(index.size, live.size);
    for (const [id, vector] of live) assert.deepEqual(index.vector(id), vector, `point ${id}`);
    for (const id of deleted) assert.equal(index.has(id), false);
    // Every live point is found as its own nearest neighbour.
    let found = 0;
    for (const [id, vector] of live) if (index.search(vector, 1)[0]?.id === id) found += 1;
    assert.ok(found >= live.size * 0.98, `${found} of ${live.size} found themselves`);
  } finally {
    index.stop();
  }
});

Deno.test("live index: a snapshot taken while the worker inserts holds every point once, graph sound", async () => {
  const seed = testSeed("live index worker capture");
  const random = seededRandom(seed);
  const kernel = await testKernel();
  const index = await liveIndex(400); // slow inserts: the capture lands inside a batch
  const written = new Map<PointId, Float32Array>();
  try {
    for (let i = 0; i < 1500; i++) {
      const vector = randomVector(random, DIMENSION);
      index.upsert(i, vector);
      written.set(i, vector);
    }
    while (index.pendingCount > 1200) await new Promise((resolve) => setTimeout(resolve, 1));
    const capture = index.capture();
    assert.ok(capture.graphRows > 0 && capture.graphRows < written.size, `${capture.graphRows}`);
    assert.equal(capture.ids.length, written.size);
    assert.equal(new Set(capture.ids).size, written.size);
    capture.ids.forEach((id, row) => {
      const vector = capture.vectors.subarray(row * DIMENSION, (row + 1) * DIMENSION);
      assert.deepEqual(vector, written.get(id), `point ${id}`);
    });
    const graph = HnswIndex.loadGraph(kernel, capture.graph, {
      count: capture.graphRows,
      id: (row) => capture.ids[row]!,
      vector: (row) => capture.vectors.subarray(row * DIMENSION, (row + 1) * DIMENSION),
    });
    assert.equal(graph.size, capture.graphRows);
    assert.deepEqual(checkIntegrity(graph).problems, []);
    await index.drain();
    assert.equal(index.pendingCount, 0);
  } finally {
    index.stop();
  }
});
