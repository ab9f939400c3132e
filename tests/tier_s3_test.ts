/**
 * Tiering against a real S3 protocol server (s3rver under Node, or MinIO via
 * AKIDB_TEST_S3_*): warm → cold → hot on access, hot → cold directly with a
 * 10k-vector round trip, restart while cold, one shared promotion from cold,
 * the idle rules end to end, S3 down during a demotion to cold (stays warm,
 * nothing deleted), remote snapshots mirror local ones, drop removes them.
 */

import assert from "node:assert/strict";
import type { AkiEngine } from "../src/engine/mod.ts";
import { objectKeyPrefix, ObjectStoreError } from "../src/storage/objectstore/mod.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";
import { startS3Server, type TestS3Server } from "./support/s3_server.ts";
import { startTcpFaultProxy } from "./support/tcp_fault_proxy.ts";
import {
  filesUnder,
  makePoints,
  openTierEngine,
  type S3Target,
  searchAll,
  upsertAll,
  withTempDir,
} from "./support/tier_harness.ts";

const DIM = 32;
const OPTIONS = { sanitizeResources: false, sanitizeOps: false };

async function withS3(body: (s3: TestS3Server) => Promise<void>): Promise<void> {
  const s3 = await startS3Server();
  try {
    await body(s3);
  } finally {
    await s3.stop();
  }
}

/** Snapshot files in S3 of a collection: `<snapshot_id>/<file>` → size. */
async function remoteFiles(engine: AkiEngine, collectionId: string): Promise<Map<string, number>> {
  const listing = await engine.uploads!.store.list(objectKeyPrefix(collectionId));
  return new Map(
    listing.map((item) => [item.key.split("/").slice(3).join("/"), item.sizeBytes]),
  );
}

async function localSnapshotFiles(dir: string, collectionId: string) {
  return await filesUnder(`${dir}/collections/${collectionId}/snapshots`);
}

Deno.test({
  name:
    "warm → cold → hot on access: local files go only after upload, answers identical, restart cold",
  ...OPTIONS,
  fn: () =>
    withS3((s3) =>
      withTempDir(async (dir) => {
        const random = seededRandom(testSeed("tier warm-cold-hot"));
        const prefix = "wch";
        let engine = await openTierEngine(dir, { s3, prefix });
        const { collectionId } = await engine.createCollection({
          name: "c",
          dimension: DIM,
          metric: "l2",
        });
        await upsertAll(engine, "c", makePoints(random, 1000, DIM));
        const queries = Array.from({ length: 10 }, () => randomVector(random, DIM));
        const before = await searchAll(engine, "c", queries);

        const warm = await engine.demote("c", "warm");
        await engine.uploads!.settled(collectionId);
        const local = await localSnapshotFiles(dir, collectionId);
        assert.ok(local.size >= 3);
        const cold = await engine.demote("c", "cold");
        assert.deepEqual([cold.tier, cold.snapshotId, cold.vectorCount], [
          "cold",
          warm.snapshotId,
          1000,
        ]);
        assert.equal(
          (await filesUnder(`${dir}/collections/${collectionId}`)).size,
          0,
          "no local file",
        );
        const remote = await remoteFiles(engine, collectionId);
        for (const [file, size] of local) {
          if (file.startsWith(warm.snapshotId!)) assert.equal(remote.get(file), size, file);
        }
        await engine.close();

        engine = await openTierEngine(dir, { s3, prefix });
        assert.equal(
          engine.tierStatus("c").tier,
          "cold",
          "a cold collection stays cold on restart",
        );
        assert.equal(engine.getCollection("c").vectorCount, 1000);
        assert.deepEqual(await searchAll(engine, "c", queries), before);
        assert.equal(engine.tierStatus("c").tier, "hot");
        await engine.upsert("c", [{ id: "after", vector: randomVector(random, DIM) }]);
        assert.equal(engine.getCollection("c").vectorCount, 1001);
        await engine.close();
      })
    ),
});

/**
 * Snapshot → upload → delete local → restore from S3 → identical search
 * results and metadata. 100k uses a cheaper graph (m 8, efConstruction 24) so
 * the build fits a test; the round trip itself does not depend on it.
 */
function roundTripTest(count: number, hnsw: { m: number; efConstruction: number } | undefined) {
  const label = `${count / 1000}k`;
  Deno.test({
    name: `hot → cold directly, ${label} vectors: search results and metadata identical after`,
    ...OPTIONS,
    fn: () =>
      withS3((s3) =>
        withTempDir(async (dir) => {
          const seed = testSeed(`tier ${label} round trip`);
          const random = seededRandom(seed);
          const engine = await openTierEngine(dir, { s3 });
          await engine.createCollection({
            name: "c",
            dimension: DIM,
            metric: "cosine",
            ...(hnsw === undefined ? {} : { hnsw }),
          });
          const points = makePoints(random, count, DIM);
          await upsertAll(engine, "c", points);
          await engine.collection("c").drainIndex();
          const queries = Array.from({ length: 50 }, () => randomVector(random, DIM));
          const before = await searchAll(engine, "c", queries, 10);
          const sample = points.filter((_, i) => i % (count / 200) === 0);
          const pointsBefore = await Promise.all(sample.map((p) => engine.getPoint("c", p.id)));

          const cold = await engine.demote("c", "cold");
          assert.equal(cold.tier, "cold");
          const after = await searchAll(engine, "c", queries, 10);
          assert.deepEqual(after, before, `seed ${seed}`);
          assert.deepEqual(
            await Promise.all(sample.map((p) => engine.getPoint("c", p.id))),
            pointsBefore,
          );
          assert.equal(engine.getCollection("c").vectorCount, count);
          await engine.close();
        })
      ),
  });
}

roundTripTest(10_000, undefined);
roundTripTest(100_000, { m: 8, efConstruction: 24 });

Deno.test({
  name: "concurrent requests on a cold collection share one download and load",
  ...OPTIONS,
  fn: () =>
    withS3((s3) =>
      withTempDir(async (dir) => {
        const random = seededRandom(testSeed("tier cold concurrent"));
        const engine = await openTierEngine(dir, { s3 });
        await engine.createCollection({ name: "c", dimension: DIM, metric: "l2" });
        await upsertAll(engine, "c", makePoints(random, 2000, DIM));
        await engine.demote("c", "cold");
        const promotions = engine.tiers.promotionCount;
        const results = await Promise.all(
          Array.from(
            { length: 25 },
            () => engine.search("c", { vector: randomVector(random, DIM), k: 3 }),
          ),
        );
        assert.equal(engine.tiers.promotionCount, promotions + 1);
        for (const hits of results) assert.equal(hits.length, 3);
        await engine.close();
      })
    ),
});

Deno.test({
  name: "idle rules end to end: the worker moves hot → warm → cold, access brings it back",
  ...OPTIONS,
  fn: () =>
    withS3((s3) =>
      withTempDir(async (dir) => {
        // Idle time comes from a manual clock; the worker itself runs on its real interval.
        let clockMs = 1_000_000;
        const engine = await openTierEngine(dir, {
          s3,
          tier: { hot_to_warm_idle_ms: 100, warm_to_cold_idle_ms: 300, check_interval_ms: 100 },
          now: () => clockMs,
        });
        const { collectionId } = await engine.createCollection({
          name: "c",
          dimension: 2,
          metric: "l2",
        });
        await engine.upsert("c", [{ id: 1, vector: new Float32Array([3, 4]), metadata: { a: 1 } }]);
        const waitFor = async (tier: string) => {
          const deadline = Date.now() + 20_000;
          while (engine.tierStatus("c").tier !== tier && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 20));
          }
          assert.equal(engine.tierStatus("c").tier, tier, `the worker moved it to ${tier}`);
        };
        clockMs += 150; // idle past hot → warm, not yet warm → cold
        await waitFor("warm");
        clockMs += 300; // idle past warm → cold
        await waitFor("cold");
        await engine.tiers.applyRules(); // joins the worker's running tick, if any
        assert.equal(engine.tierStatus("c").tier, "cold");
        assert.equal((await filesUnder(`${dir}/collections/${collectionId}`)).size, 0);
        assert.deepEqual((await engine.getPoint("c", 1))?.metadata, { a: 1 });
        assert.equal(engine.tierStatus("c").tier, "hot");
        await engine.close();
      })
    ),
});

Deno.test({
  name:
    "S3 unavailable during demotion to cold: the collection stays warm, nothing deleted locally",
  ...OPTIONS,
  fn: () =>
    withS3((s3) =>
      withTempDir(async (dir) => {
        const random = seededRandom(testSeed("tier s3 down demotion"));
        const proxy = startTcpFaultProxy(s3.port);
        try {
          const target: S3Target = { ...s3, endpoint: proxy.endpoint };
          const engine = await openTierEngine(dir, { s3: target });
          const { collectionId } = await engine.createCollection({
            name: "c",
            dimension: DIM,
            metric: "l2",
          });
          const points = makePoints(random, 500, DIM);
          await upsertAll(engine, "c", points);
          proxy.setMode("reset");
          await assert.rejects(() => engine.demote("c", "cold"), ObjectStoreError);
          const status = engine.tierStatus("c");
          assert.equal(status.tier, "warm");
          const local = await localSnapshotFiles(dir, collectionId);
          assert.ok(
            [...local.keys()].some((f) => f === `${status.snapshotId}/manifest.json`),
            "the warm snapshot is still on local disk",
          );
          // Writes keep working while S3 is down (the collection is promoted locally).
          await engine.upsert("c", [{ id: "during", vector: randomVector(random, DIM) }]);
          await engine.demote("c", "warm");
          proxy.setMode("pass");
          engine.resetCircuitBreaker();
          const cold = await engine.demote("c", "cold");
          assert.equal(cold.tier, "cold");
          assert.equal(engine.getCollection("c").vectorCount, 501);
          assert.ok((await engine.getPoint("c", "during")) !== undefined);
          assert.deepEqual((await engine.getPoint("c", "p1"))?.metadata, points[1]!.metadata);
          await engine.close();
        } finally {
          await proxy.close();
        }
      })
    ),
});

Deno.test({
  name:
    "S3 mirrors local snapshots (retention prunes remote too); a dropped collection's objects go",
  ...OPTIONS,
  fn: () =>
    withS3((s3) =>
      withTempDir(async (dir) => {
        const random = seededRandom(testSeed("tier mirror"));
        const engine = await openTierEngine(dir, { s3 });
        const { collectionId } = await engine.createCollection({
          name: "c",
          dimension: DIM,
          metric: "l2",
        });
        for (let i = 0; i < 5; i++) {
          await upsertAll(engine, "c", makePoints(random, 50, DIM, `r${i}-`));
          await engine.createSnapshot("c");
        }
        await engine.uploads!.drain();
        const local = await localSnapshotFiles(dir, collectionId);
        assert.equal(local.size, 9, "retention 3 × 3 files");
        assert.deepEqual(await remoteFiles(engine, collectionId), local);
        await engine.deleteCollection("c");
        await engine.uploads!.drain();
        assert.equal((await remoteFiles(engine, collectionId)).size, 0);
        await engine.close();
      })
    ),
});
