import assert from "node:assert/strict";
import { randomVector, seededRandom, testSeed } from "../../tests/support/seeded_random.ts";
import type { PointId } from "../index/mod.ts";
import { loadConfig } from "../config/mod.ts";
import { createLogger } from "../obs/logger.ts";
import { testKernel } from "./_engine_test_support.ts";
import { COMPACT_TOMBSTONES_MIN } from "./graph_rebuild.ts";
import {
  configureLiveIndexes,
  DEFAULT_LIVE_INDEX_POLICY,
  LiveIndex,
  type LiveIndexOptions,
} from "./live_index.ts";
import { openEngine, withDataDir } from "./_engine_test_support.ts";
import { createEngine } from "./mod.ts";

const DIMENSION = 8;

async function liveIndex(options: Partial<LiveIndexOptions> = {}): Promise<LiveIndex> {
  return new LiveIndex(await testKernel(), {
    dimension: DIMENSION,
    metric: "cosine",
    m: 8,
    efConstruction: 32,
    efSearch: 32,
    ...options,
  });
}

/** Every live point's stored vector, by id. */
function storedVectors(index: LiveIndex, ids: Iterable<PointId>): Map<PointId, Float32Array> {
  const vectors = new Map<PointId, Float32Array>();
  for (const id of ids) {
    const vector = index.vector(id);
    if (vector !== undefined) vectors.set(id, vector);
  }
  return vectors;
}

Deno.test("compaction: a graph with many tombstones is rebuilt without them, vectors bit for bit", async () => {
  const random = seededRandom(testSeed("compaction rebuild"));
  const index = await liveIndex();
  try {
    const count = 3 * COMPACT_TOMBSTONES_MIN;
    for (let i = 0; i < count; i++) index.upsert(i, randomVector(random, DIMENSION));
    await index.settle();
    const before = storedVectors(index, Array.from({ length: count }, (_, i) => i));
    for (let i = 0; i < COMPACT_TOMBSTONES_MIN - 1; i++) index.delete(i);
    assert.equal(index.compacting, false, "fewer tombstones than the minimum");
    index.delete(COMPACT_TOMBSTONES_MIN - 1); // 1000 of 3000 slots: above the 0.2 default
    assert.equal(index.compacting, true);
    await index.settle();
    assert.equal(index.compacting, false);
    assert.equal(index.compactionCount, 1);
    assert.equal(index.graphTombstones, 0);
    assert.equal(index.size, count - COMPACT_TOMBSTONES_MIN);
    for (const [id, vector] of before) {
      const now = index.vector(id);
      if ((id as number) < COMPACT_TOMBSTONES_MIN) assert.equal(now, undefined, `${id} deleted`);
      else assert.deepEqual(now, vector, `point ${id} keeps its exact stored vector`);
    }
    // Every live point is still found as its own nearest neighbour.
    let found = 0;
    for (const [id, vector] of before) {
      if ((id as number) < COMPACT_TOMBSTONES_MIN) continue;
      if (index.search(vector, 1)[0]?.id === id) found += 1;
    }
    assert.ok(found >= 0.98 * (count - COMPACT_TOMBSTONES_MIN), `self-recall ${found}`);
  } finally {
    index.stop();
  }
});

Deno.test("compaction: writes and deletes while it runs are all kept, none returns twice", async () => {
  const seed = testSeed("compaction under writes");
  const random = seededRandom(seed);
  const index = await liveIndex({ compactTombstoneRatio: 0.1 });
  try {
    const expected = new Map<PointId, Float32Array>();
    const upsert = (id: PointId) => {
      const vector = randomVector(random, DIMENSION);
      index.upsert(id, vector);
      expected.set(id, vector);
    };
    const remove = (id: PointId) => {
      assert.equal(index.delete(id), expected.delete(id), `delete ${id}`);
    };
    for (let i = 0; i < 2 * COMPACT_TOMBSTONES_MIN; i++) upsert(i);
    await index.settle();
    for (let i = 0; i < COMPACT_TOMBSTONES_MIN; i++) remove(i * 2);
    assert.equal(index.compacting, true);
    // Interleave replacements, new points and deletes with the rebuild's batches.
    let rounds = 0;
    while (index.compacting) {
      for (let j = 0; j < 20; j++) {
        const id = Math.floor(random() * 3 * COMPACT_TOMBSTONES_MIN);
        const action = random();
        if (action < 0.5) upsert(id);
        else if (action < 0.8) remove(id);
        else upsert(`s${id}`);
      }
      const hits = index.search(randomVector(random, DIMENSION), 50);
      assert.equal(new Set(hits.map((hit) => hit.id)).size, hits.length, "an id returned twice");
      for (const hit of hits) assert.ok(expected.has(hit.id), `deleted ${hit.id} returned`);
      // A snapshot's capture sees every live point exactly once, with its vector as written.
      if (rounds % 10 === 0) {
        const capture = index.capture();
        assert.equal(capture.ids.length, expected.size);
        assert.equal(new Set(capture.ids).size, capture.ids.length);
      }
      rounds += 1;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await index.settle();
    assert.ok(index.compactionCount >= 1);
    assert.ok(rounds > 3, `the rebuild finished in ${rounds} rounds: writes did not interleave`);
    assert.equal(index.size, expected.size);
    const normalized = await liveIndex(); // the same vectors, stored by a fresh index
    try {
      for (const [id, vector] of expected) normalized.upsert(id, vector);
      for (const [id] of expected) {
        assert.deepEqual(index.vector(id), normalized.vector(id), `point ${id}`);
      }
    } finally {
      normalized.stop();
    }
  } finally {
    index.stop();
  }
});

Deno.test("engine: [index] compact_tombstone_ratio sets when graphs are compacted", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-compaction-" });
  const config = loadConfig(["--data-dir", dataDir, "--log-level", "error"], {});
  const engine = await createEngine({
    config: { ...config, index: { ...config.index, compactTombstoneRatio: 1 } },
    kernel: await testKernel(),
    logger: createLogger({ level: "error" }),
  });
  try {
    const random = seededRandom(testSeed("compaction ratio"));
    const index = await liveIndex();
    try {
      const count = 2 * COMPACT_TOMBSTONES_MIN;
      for (let i = 0; i < count; i++) index.upsert(i, randomVector(random, DIMENSION));
      await index.settle();
      for (let i = 0; i < count - 1; i++) index.delete(i);
      assert.equal(index.compacting, false, "ratio 1: not while one point lives");
      index.delete(count - 1);
      assert.equal(index.compacting, true, "ratio 1: once every point is deleted");
    } finally {
      index.stop();
    }
  } finally {
    await engine.close();
    configureLiveIndexes(DEFAULT_LIVE_INDEX_POLICY);
    await Deno.remove(dataDir, { recursive: true });
  }
});

/**
 * An engine over `dataDir` with a cosine collection "c", and a writer of random vectors that
 * remembers each id's latest one.
 */
async function cosineCollection(dataDir: string, seedName: string) {
  const random = seededRandom(testSeed(seedName));
  const engine = await openEngine(dataDir);
  await engine.createCollection({ name: "c", dimension: DIMENSION, metric: "cosine" });
  const latest = new Map<number, Float32Array>();
  const write = async (ids: number[]) => {
    const points = ids.map((id) => ({ id, vector: randomVector(random, DIMENSION) }));
    for (const point of points) latest.set(point.id, point.vector);
    await engine.upsert("c", points);
  };
  return { engine, latest, write };
}

Deno.test("engine: replaced points are compacted away; a snapshot and a restart keep every point", async () => {
  await withDataDir(async (dataDir) => {
    const { engine, latest, write } = await cosineCollection(dataDir, "engine compaction");
    const count = 2 * COMPACT_TOMBSTONES_MIN;
    await write(Array.from({ length: count }, (_, i) => i));
    const collection = engine.collection("c");
    await collection.drainIndex();
    await write(Array.from({ length: COMPACT_TOMBSTONES_MIN }, (_, i) => 2 * i)); // replacements
    await collection.settleIndex();
    assert.equal(collection.graphTombstones, 0, "compacted: no replaced point left in the graph");
    assert.equal(engine.getCollection("c").vectorCount, count);
    await engine.createSnapshot!("c");
    await write([1, 3]); // after the snapshot: replayed from the WAL
    for (const [id, vector] of latest) {
      const [hit] = await engine.search("c", { vector, k: 1, efSearch: 256 });
      assert.equal(hit?.id, id, `point ${id} is its own nearest neighbour`);
    }
    await engine.close();
    const reopened = await openEngine(dataDir);
    try {
      assert.equal(reopened.getCollection("c").vectorCount, count);
      const [hit] = await reopened.search("c", { vector: latest.get(3)!, k: 1 });
      assert.equal(hit?.id, 3);
    } finally {
      await reopened.close();
    }
  });
});

Deno.test("engine: closing while graph building and a compaction run loses nothing", async () => {
  await withDataDir(async (dataDir) => {
    const { engine, latest, write } = await cosineCollection(dataDir, "engine compaction close");
    const count = 2 * COMPACT_TOMBSTONES_MIN;
    await write(Array.from({ length: count }, (_, i) => i));
    await engine.collection("c").drainIndex();
    await engine.createSnapshot!("c"); // the graph without tombstones, then replacements in the WAL
    await write(Array.from({ length: COMPACT_TOMBSTONES_MIN }, (_, i) => 2 * i));
    // The replacements started a rebuild at once; close before the background work ends.
    assert.ok(engine.collection("c").pendingIndexCount > 0, "the new versions wait in the tail");
    await engine.close();
    const reopened = await openEngine(dataDir);
    try {
      const collection = reopened.collection("c");
      await collection.settleIndex();
      assert.equal(collection.graphTombstones, 0, "replayed replacements were compacted again");
      assert.equal(reopened.getCollection("c").vectorCount, count);
      for (const [id, vector] of latest) {
        const point = await reopened.getPoint("c", id);
        const stored = point?.vector;
        assert.ok(stored !== undefined, `point ${id} is back`);
        // Stored unit-length under cosine: compare directions.
        let dot = 0;
        let norm = 0;
        for (let i = 0; i < DIMENSION; i++) {
          dot += stored[i]! * vector[i]!;
          norm += vector[i]! * vector[i]!;
        }
        assert.ok(Math.abs(dot / Math.sqrt(norm) - 1) < 1e-5, `point ${id} has its latest vector`);
      }
    } finally {
      await reopened.close();
    }
  });
});
