/**
 * Tiering without S3: hot ⇄ warm with real data movement (memory freed, WAL
 * closed after a snapshot at the current LSN), pin, the memory budget, the
 * idle rule, one promotion under concurrent requests, writes racing a
 * demotion, restart while warm, and the HTTP routes.
 */

import assert from "node:assert/strict";
import { ConflictError } from "../src/errors.ts";
import { createApp } from "../src/api/mod.ts";
import { createLogger } from "../src/obs/logger.ts";
import { loadConfig } from "../src/config/mod.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";
import {
  filesUnder,
  makePoints,
  openTierEngine,
  searchAll,
  upsertAll,
  withTempDir,
} from "./support/tier_harness.ts";

const DIM = 16;

Deno.test("hot → warm → hot: memory freed, local snapshot only, same answers after access", async () => {
  const random = seededRandom(testSeed("tier hot-warm-hot"));
  await withTempDir(async (dir) => {
    const engine = await openTierEngine(dir);
    const { collectionId } = await engine.createCollection({
      name: "c",
      dimension: DIM,
      metric: "cosine",
    });
    const points = makePoints(random, 500, DIM);
    await upsertAll(engine, "c", points, 100);
    const queries = Array.from({ length: 10 }, () => randomVector(random, DIM));
    const before = await searchAll(engine, "c", queries);
    assert.ok(engine.tierStatus("c").memoryBytes > 0);

    const warm = await engine.demote("c", "warm");
    assert.equal(warm.tier, "warm");
    assert.equal(warm.memoryBytes, 0);
    assert.equal(warm.vectorCount, 500);
    assert.equal(engine.getCollection("c").tier, "warm");
    assert.equal(engine.getCollection("c").vectorCount, 500);
    assert.throws(() => engine.collection("c"), /not loaded/);
    const files = await filesUnder(`${dir}/collections/${collectionId}/snapshots`);
    assert.ok([...files.keys()].some((f) => f.endsWith(`${warm.snapshotId}/manifest.json`)));

    const promotions = engine.tiers.promotionCount;
    assert.deepEqual(await searchAll(engine, "c", queries), before);
    assert.equal(engine.tierStatus("c").tier, "hot");
    assert.equal(engine.tiers.promotionCount, promotions + 1);
    assert.deepEqual((await engine.getPoint("c", "p1"))?.metadata, points[1]!.metadata);
    await engine.close();
  });
});

Deno.test("demote to cold without S3 is a 409; everything else works locally", async () => {
  await withTempDir(async (dir) => {
    const engine = await openTierEngine(dir);
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    await assert.rejects(() => engine.demote("c", "cold"), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.equal(error.code, "cold_tier_unavailable");
      return true;
    });
    assert.equal(engine.tierStatus("c").tier, "hot");
    assert.throws(() => engine.dlqStatus(), ConflictError);
    await engine.close();
  });
});

Deno.test("pin: a pinned collection is refused demotion and skipped by the rules; unpin lets them act", async () => {
  await withTempDir(async (dir) => {
    const engine = await openTierEngine(dir, { tier: { hot_to_warm_idle_ms: 50 } });
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    await engine.upsert("c", [{ id: 1, vector: new Float32Array([1, 2]) }]);
    assert.equal((await engine.pin("c")).pinned, true);
    await assert.rejects(() => engine.demote("c", "warm"), /pinned; unpin it first/);
    await new Promise((r) => setTimeout(r, 80));
    await engine.tiers.applyRules();
    assert.equal(engine.tierStatus("c").tier, "hot");
    assert.equal((await engine.unpin("c")).pinned, false);
    await engine.tiers.applyRules();
    assert.equal(engine.tierStatus("c").tier, "warm");
    // pin promotes a demoted collection
    const pinned = await engine.pin("c");
    assert.deepEqual([pinned.tier, pinned.pinned], ["hot", true]);
    await engine.close();
  });
});

Deno.test("idle rule: an unused hot collection goes warm; a used one stays hot", async () => {
  await withTempDir(async (dir) => {
    let clockMs = 1_000_000; // a manual clock: the rule depends on idle time, not on scheduling
    const engine = await openTierEngine(dir, {
      tier: { hot_to_warm_idle_ms: 150 },
      now: () => clockMs,
    });
    for (const name of ["idle", "busy"]) {
      await engine.createCollection({ name, dimension: 2, metric: "l2" });
      await engine.upsert(name, [{ id: 1, vector: new Float32Array([1, 2]) }]);
    }
    clockMs += 100;
    await engine.search("busy", { vector: new Float32Array([0, 0]), k: 1 });
    clockMs += 80;
    await engine.tiers.applyRules();
    assert.equal(engine.tierStatus("idle").tier, "warm");
    assert.equal(engine.tierStatus("busy").tier, "hot");
    await engine.close();
  });
});

Deno.test("memory budget: the least recently used unpinned collections are demoted", async () => {
  const random = seededRandom(testSeed("tier budget"));
  await withTempDir(async (dir) => {
    let engine = await openTierEngine(dir);
    const names = ["a", "b", "c", "d"];
    for (const name of names) {
      await engine.createCollection({ name, dimension: DIM, metric: "l2" });
      await upsertAll(engine, name, makePoints(random, 300, DIM));
    }
    const perCollection = engine.tierStatus("a").memoryBytes;
    assert.ok(perCollection > 0);
    await engine.close();
    // Budget for two collections; "a" is pinned, so after "d" is touched last only "c"… stays.
    engine = await openTierEngine(dir, {
      tier: { hot_memory_budget_bytes: Math.floor(perCollection * 2.5) },
    });
    await engine.pin("a");
    for (const name of ["b", "c", "d"]) {
      await engine.search(name, { vector: randomVector(random, DIM), k: 1 });
      await new Promise((r) => setTimeout(r, 5));
    }
    await engine.tiers.applyRules();
    const tiers = names.map((name) => engine.tierStatus(name).tier);
    assert.deepEqual(tiers, ["hot", "warm", "warm", "hot"], "pinned a and most recent d stay");
    await engine.close();
  });
});

Deno.test("concurrent requests on a warm collection share ONE promotion and all succeed", async () => {
  const random = seededRandom(testSeed("tier concurrent promotion"));
  await withTempDir(async (dir) => {
    const engine = await openTierEngine(dir);
    await engine.createCollection({ name: "c", dimension: DIM, metric: "l2" });
    const points = makePoints(random, 2000, DIM);
    await upsertAll(engine, "c", points);
    await engine.demote("c", "warm");
    const promotions = engine.tiers.promotionCount;
    const results = await Promise.all([
      ...Array.from(
        { length: 20 },
        () => engine.search("c", { vector: randomVector(random, DIM), k: 5 }),
      ),
      ...Array.from({ length: 10 }, (_, i) => engine.getPoint("c", `p${i * 3 + 1}`)),
      engine.upsert("c", [{ id: "new", vector: randomVector(random, DIM) }]),
    ]);
    assert.equal(engine.tiers.promotionCount, promotions + 1, "one load for 31 requests");
    for (const r of results.slice(0, 20)) assert.equal((r as unknown[]).length, 5);
    for (const r of results.slice(20, 30)) assert.ok(r !== undefined);
    assert.equal(engine.getCollection("c").vectorCount, 2001);
    await engine.close();
  });
});

Deno.test("writes racing a demotion are never lost (in memory, and after a restart while warm)", async () => {
  const seed = testSeed("tier writes during demotion");
  const random = seededRandom(seed);
  await withTempDir(async (dir) => {
    let engine = await openTierEngine(dir);
    await engine.createCollection({ name: "c", dimension: DIM, metric: "l2" });
    await upsertAll(engine, "c", makePoints(random, 1000, DIM));
    const written = new Map<string, Float32Array>();
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 30; i++) {
        const id = `w${round}-${i}`;
        const vector = randomVector(random, DIM);
        written.set(id, vector);
        writes.push(engine.upsert("c", [{ id, vector, metadata: { round } }]));
      }
      writes.push(engine.demote("c", "warm"));
    }
    await Promise.all(writes);
    for (const [id, vector] of written) {
      assert.deepEqual((await engine.getPoint("c", id))?.vector, vector, `seed ${seed}, ${id}`);
    }
    await engine.demote("c", "warm");
    await engine.close();
    engine = await openTierEngine(dir);
    assert.equal(engine.tierStatus("c").tier, "warm", "a warm collection stays warm on restart");
    assert.equal(engine.getCollection("c").vectorCount, 1090);
    for (const [id, vector] of written) {
      assert.deepEqual((await engine.getPoint("c", id))?.vector, vector, `seed ${seed}, ${id}`);
    }
    assert.equal(engine.tierStatus("c").tier, "hot");
    await engine.close();
  });
});

Deno.test("restart while hot keeps access statistics and pin", async () => {
  await withTempDir(async (dir) => {
    let engine = await openTierEngine(dir);
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    await engine.pin("c");
    for (let i = 0; i < 5; i++) {
      await engine.upsert("c", [{ id: i, vector: new Float32Array([i, 1]) }]);
    }
    const count = engine.tierStatus("c").accessCount;
    await engine.close();
    engine = await openTierEngine(dir);
    const status = engine.tierStatus("c");
    assert.deepEqual([status.tier, status.pinned, status.accessCount], ["hot", true, count]);
    await engine.close();
  });
});

Deno.test("tier routes: status, demote, promote, pin, unpin; collection object shows the tier", async () => {
  await withTempDir(async (dir) => {
    const engine = await openTierEngine(dir);
    const config = loadConfig(["--data-dir", dir], {});
    const app = createApp({
      engine,
      config,
      logger: createLogger({ level: "error", sink: () => {} }),
      version: "test",
    });
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await app.request(path, {
        method,
        ...(body === undefined ? {} : {
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
      });
      return { status: response.status, json: await response.json() };
    };
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    await engine.upsert("c", [{ id: "a", vector: new Float32Array([1, 2]), metadata: { x: 1 } }]);
    let r = await call("GET", "/api/v1/collections/c/tier");
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), [
      "access_count",
      "last_accessed_at",
      "memory_bytes",
      "pinned",
      "snapshot_id",
      "tier",
      "vector_count",
    ]);
    r = await call("POST", "/api/v1/admin/collections/c/demote", { tier: "warm" });
    assert.deepEqual([r.status, r.json.tier, r.json.vector_count], [200, "warm", 1]);
    assert.equal((await call("GET", "/api/v1/collections/c")).json.tier, "warm");
    r = await call("GET", "/api/v1/collections/c/vectors/a");
    assert.deepEqual([r.status, r.json.metadata], [200, { x: 1 }]);
    assert.equal((await call("GET", "/api/v1/collections/c/tier")).json.tier, "hot");
    r = await call("POST", "/api/v1/admin/collections/c/demote", { tier: "cold" });
    assert.deepEqual([r.status, r.json.error.code], [409, "cold_tier_unavailable"]);
    r = await call("POST", "/api/v1/admin/collections/c/demote", { tier: "lukewarm" });
    assert.equal(r.status, 422);
    r = await call("POST", "/api/v1/admin/collections/c/demote", []);
    assert.equal(r.status, 400);
    await call("POST", "/api/v1/admin/collections/c/demote", { tier: "warm" });
    r = await call("POST", "/api/v1/admin/collections/c/promote");
    assert.deepEqual([r.status, r.json.tier], [200, "hot"]);
    r = await call("POST", "/api/v1/admin/collections/c/pin");
    assert.deepEqual([r.json.tier, r.json.pinned], ["hot", true]);
    r = await call("POST", "/api/v1/admin/collections/c/demote", { tier: "warm" });
    assert.deepEqual([r.status, r.json.error.code], [409, "collection_pinned"]);
    r = await call("POST", "/api/v1/admin/collections/c/unpin");
    assert.equal(r.json.pinned, false);
    r = await call("POST", "/api/v1/admin/collections/nope/promote");
    assert.equal(r.status, 404);
    r = await call("GET", "/api/v1/admin/dlq");
    assert.deepEqual([r.status, r.json.error.code], [409, "s3_not_configured"]);
    await engine.close();
  });
});
