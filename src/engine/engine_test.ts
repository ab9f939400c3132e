import assert from "node:assert/strict";
import { ConflictError, NotFoundError } from "../errors.ts";
import { randomVector, seededRandom, testSeed } from "../../tests/support/seeded_random.ts";
import { openEngine, testKernel, withDataDir } from "./_engine_test_support.ts";
import { loadConfig } from "../config/mod.ts";
import { createLogger } from "../obs/logger.ts";
import { createEngine } from "./mod.ts";
import type { PointInput } from "./mod.ts";

const v = (...values: number[]) => new Float32Array(values);

Deno.test("engine: create, list, get and delete collections by id and name", async () => {
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    const created = await engine.createCollection({
      name: "docs",
      dimension: 3,
      metric: "cosine",
      hnsw: { m: 8 },
    });
    assert.match(created.collectionId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
    assert.deepEqual(created.hnsw, { m: 8, efConstruction: 200, efSearch: 64 });
    assert.equal(created.vectorCount, 0);
    assert.equal(created.tier, "hot");
    await engine.createCollection({ name: "other", dimension: 2, metric: "l2" });
    assert.deepEqual(engine.listCollections().map((c) => c.name), ["docs", "other"]);
    assert.deepEqual(engine.getCollection(created.collectionId), created);
    assert.deepEqual(engine.getCollection("docs"), created);
    await assert.rejects(
      engine.createCollection({ name: "docs", dimension: 3, metric: "l2" }),
      ConflictError,
    );
    await engine.deleteCollection(created.collectionId);
    assert.throws(() => engine.getCollection("docs"), NotFoundError);
    await engine.deleteCollection("other");
    assert.deepEqual(engine.listCollections(), []);
    await assert.rejects(engine.deleteCollection("other"), NotFoundError);
    // The directories are gone and the name is free again.
    assert.deepEqual([...Deno.readDirSync(`${dataDir}/collections`)], []);
    await engine.createCollection({ name: "docs", dimension: 3, metric: "l2" });
    await engine.close();
  });
});

Deno.test("engine: invalid collection specs are rejected before anything is written", async () => {
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await assert.rejects(
      engine.createCollection({ name: "_bad", dimension: 3, metric: "l2" }),
      RangeError,
    );
    await assert.rejects(
      engine.createCollection({ name: "a", dimension: 5000, metric: "l2" }),
      /dimension is 5000, expected an integer 1\.\.4096/,
    );
    await assert.rejects(
      engine.createCollection({ name: "a", dimension: 3, metric: "hamming" as never }),
      TypeError,
    );
    await assert.rejects(
      engine.createCollection({ name: "a", dimension: 3, metric: "l2", hnsw: { m: 1 } }),
      RangeError,
    );
    assert.deepEqual(engine.listCollections(), []);
    await engine.close();
  });
});

Deno.test("engine: upsert, get, replace, delete and search", async () => {
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    const first = await engine.upsert("c", [
      { id: "a", vector: v(0, 0), metadata: { tag: "x" } },
      { id: 7, vector: v(3, 4) },
    ]);
    assert.deepEqual(first, { upserted: 2, lsn: 1 });
    assert.deepEqual(await engine.getPoint("c", "a"), {
      id: "a",
      vector: v(0, 0),
      metadata: { tag: "x" },
    });
    assert.equal(await engine.getPoint("c", "7"), undefined, '"7" and 7 are different ids');
    assert.equal(engine.getCollection("c").vectorCount, 2);

    const hits = await engine.search("c", { vector: v(3, 3), k: 2 });
    assert.deepEqual(hits.map((h) => [h.id, h.score]), [[7, 1], ["a", Math.sqrt(18)]]);
    assert.deepEqual(hits[1]?.metadata, { tag: "x" });

    // Replace: the old vector never shows up again, the id never twice.
    await engine.upsert("c", [{ id: 7, vector: v(100, 100), metadata: { tag: "y" } }]);
    const replaced = await engine.search("c", { vector: v(3, 4), k: 10, includeVector: true });
    assert.deepEqual(replaced.map((h) => h.id), ["a", 7]);
    assert.deepEqual(replaced[1]?.vector, v(100, 100));
    assert.equal(engine.getCollection("c").vectorCount, 2);

    assert.deepEqual(await engine.deletePoint("c", "a"), { deleted: true, lsn: 3 });
    assert.deepEqual(await engine.deletePoint("c", "a"), { deleted: false, lsn: 3 });
    assert.equal(await engine.getPoint("c", "a"), undefined);
    assert.deepEqual((await engine.search("c", { vector: v(0, 0), k: 5 })).map((h) => h.id), [7]);
    assert.equal(engine.getCollection("c").vectorCount, 1);
    await assert.rejects(engine.search("missing", { vector: v(0, 0), k: 1 }), NotFoundError);
    await engine.close();
  });
});

Deno.test("engine: scores follow the metric's convention", async () => {
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "cos", dimension: 2, metric: "cosine" });
    await engine.createCollection({ name: "dot", dimension: 2, metric: "dot" });
    const points = [{ id: 1, vector: v(2, 0) }, { id: 2, vector: v(0, 3) }];
    await engine.upsert("cos", points);
    await engine.upsert("dot", points);
    const cos = await engine.search("cos", { vector: v(1, 1), k: 2 });
    assert.ok(Math.abs(cos[0]!.score - Math.SQRT1_2) < 1e-6);
    assert.deepEqual(
      (await engine.getPoint("cos", 1))?.vector,
      v(1, 0),
      "cosine vectors are normalized",
    );
    const dot = await engine.search("dot", { vector: v(1, 1), k: 2 });
    assert.deepEqual(dot.map((h) => [h.id, h.score]), [[2, 3], [1, 2]]);
    await engine.close();
  });
});

Deno.test("engine: an invalid point rejects the whole batch and writes nothing", async () => {
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension: 3, metric: "cosine" });
    const good: PointInput = { id: "ok", vector: v(1, 2, 3) };
    const cases: [PointInput, RegExp][] = [
      [{ id: "a1", vector: v(1, 2) }, /: Cannot upsert point "a1": dimension is 2, expected 3$/],
      [{ id: "nan", vector: v(1, NaN, 2) }, /vector\[1\] is NaN, expected a finite number/],
      [{ id: "zero", vector: v(0, 0, 0) }, /zero norm/],
      [{ id: "", vector: v(1, 2, 3) }, /id is 0 bytes/],
      [{ id: -1, vector: v(1, 2, 3) }, /safe integer/],
      [{ id: "m", vector: v(1, 2, 3), metadata: [1] as never }, /metadata is an array/],
      [
        { id: "m", vector: v(1, 2, 3), metadata: { s: "x".repeat(70_000) } },
        /metadata is 70008 bytes/,
      ],
    ];
    for (const [bad, message] of cases) {
      await assert.rejects(engine.upsert("c", [good, bad]), message);
    }
    assert.equal(engine.getCollection("c").vectorCount, 0);
    assert.equal(await engine.getPoint("c", "ok"), undefined);
    // Nothing reached the WAL: the next record is LSN 1.
    assert.deepEqual(await engine.upsert("c", [good]), { upserted: 1, lsn: 1 });
    await assert.rejects(engine.upsert("c", []), /no points/);
    await engine.close();
  });
});

Deno.test("engine: duplicate ids in one batch — the last one wins", async () => {
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    const result = await engine.upsert("c", [
      { id: 1, vector: v(1, 1), metadata: { n: 1 } },
      { id: 1, vector: v(2, 2), metadata: { n: 2 } },
    ]);
    assert.equal(result.upserted, 1);
    assert.deepEqual(await engine.getPoint("c", 1), { id: 1, vector: v(2, 2), metadata: { n: 2 } });
    await engine.close();
  });
});

Deno.test("engine: writes are searchable at once, before and after the graph catches up", async () => {
  const seed = testSeed("engine tail");
  const random = seededRandom(seed);
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension: 16, metric: "l2" });
    const points = Array.from(
      { length: 600 },
      (_, i) => ({ id: i, vector: randomVector(random, 16) }),
    );
    await engine.upsert("c", points.slice(0, 300));
    await engine.collection("c").drainIndex();
    await engine.upsert("c", points.slice(300));
    const collection = engine.collection("c");
    assert.ok(collection.pendingIndexCount > 0, "the second batch waits in the tail");
    // Every point is its own nearest neighbour, in the tail or in the graph.
    for (const index of [0, 299, 300, 599]) {
      const [hit] = await engine.search("c", {
        vector: points[index]!.vector,
        k: 1,
        efSearch: 200,
      });
      assert.equal(hit?.id, index, `seed ${seed}`);
    }
    // Replace points that are in the tail and in the graph, then check no duplicates.
    await engine.upsert("c", [{ id: 0, vector: points[599]!.vector }, {
      id: 599,
      vector: points[0]!.vector,
    }]);
    const hits = await engine.search("c", { vector: points[0]!.vector, k: 50, efSearch: 200 });
    assert.equal(new Set(hits.map((h) => h.id)).size, hits.length);
    assert.equal(hits[0]?.id, 599);
    await collection.drainIndex();
    assert.equal(collection.pendingIndexCount, 0);
    assert.equal(engine.getCollection("c").vectorCount, 600);
    const [again] = await engine.search("c", { vector: points[0]!.vector, k: 1, efSearch: 200 });
    assert.equal(again?.id, 599);
    await engine.close();
  });
});

Deno.test("engine: concurrent writes to one id apply in LSN order", async () => {
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension: 1, metric: "l2" });
    const writes = Array.from(
      { length: 50 },
      (_, i) => engine.upsert("c", [{ id: "x", vector: v(i) }]),
    );
    const results = await Promise.all(writes);
    const last = results.reduce((a, b) => (a.lsn > b.lsn ? a : b));
    assert.equal(last.lsn, 50);
    assert.deepEqual((await engine.getPoint("c", "x"))?.vector, v(49));
    await engine.close();
  });
});

Deno.test("engine: the WAL observer sees every acknowledged append", async () => {
  await withDataDir(async (dataDir) => {
    const appends: number[] = [];
    const engine = await createEngine({
      config: loadConfig(["--data-dir", dataDir], {}),
      kernel: await testKernel(),
      logger: createLogger({ level: "error", sink: () => {} }),
      walObserver: { onAppend: (_seconds, bytes) => void appends.push(bytes), onFsync: () => {} },
    });
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    await engine.upsert("c", [{ id: 1, vector: v(1, 2) }]);
    await engine.deletePoint("c", 1);
    assert.equal(appends.length, 2);
    await engine.close();
  });
});
