/**
 * An S3 outage end to end, through a TCP fault proxy in front of a real S3
 * server: while it resets every connection, writes keep succeeding at local speed,
 * snapshots' uploads fail, the breaker opens and the DLQ fills (all visible in
 * the admin routes); after recovery `POST /admin/dlq/retry-all` drains the
 * queue to zero and S3 holds exactly the snapshot files local disk holds.
 */

import assert from "node:assert/strict";
import { createApp } from "../src/api/mod.ts";
import { loadConfig } from "../src/config/mod.ts";
import type { AkiEngine } from "../src/engine/mod.ts";
import { createLogger } from "../src/obs/logger.ts";
import { objectKeyPrefix } from "../src/storage/objectstore/mod.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";
import { startS3Server } from "./support/s3_server.ts";
import { startTcpFaultProxy } from "./support/tcp_fault_proxy.ts";
import {
  filesUnder,
  makePoints,
  openTierEngine,
  upsertAll,
  withTempDir,
} from "./support/tier_harness.ts";

const DIM = 16;

async function remoteFiles(engine: AkiEngine, collectionId: string): Promise<Map<string, number>> {
  const listing = await engine.uploads!.store.list(objectKeyPrefix(collectionId));
  return new Map(listing.map((item) => [item.key.split("/").slice(3).join("/"), item.sizeBytes]));
}

Deno.test({
  name:
    "S3 outage: writes unaffected, breaker opens, DLQ fills; retry-all drains it and S3 = local",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const seed = testSeed("s3 outage e2e");
    const random = seededRandom(seed);
    const s3 = await startS3Server();
    const proxy = startTcpFaultProxy(s3.port);
    try {
      await withTempDir(async (dir) => {
        const engine = await openTierEngine(dir, { s3: { ...s3, endpoint: proxy.endpoint } });
        const app = createApp({
          engine,
          config: loadConfig(["--data-dir", dir], {}),
          logger: createLogger({ level: "error", sink: () => {} }),
          version: "test",
        });
        const call = async (method: string, path: string) => {
          const response = await app.request(path, { method });
          return { status: response.status, json: await response.json() };
        };
        const ids: string[] = [];
        for (const name of ["a", "b"]) {
          ids.push(
            (await engine.createCollection({ name, dimension: DIM, metric: "l2" })).collectionId,
          );
          await upsertAll(engine, name, makePoints(random, 200, DIM, `${name}-`));
          await engine.createSnapshot(name);
        }
        await engine.uploads!.drain();
        assert.equal((await call("GET", "/api/v1/admin/dlq")).json.size, 0);

        // Writes never wait for S3: with S3 hanging (the proxy accepts and never
        // forwards), a snapshot's upload stays in flight while writes complete.
        proxy.setMode("reset"); // close idle pooled connections, so new ones stall
        proxy.setMode("stall");
        await engine.createSnapshot("a");
        let uploadSettled = false;
        void engine.uploads!.settled(ids[0]!).then(() => (uploadSettled = true));
        for (let i = 0; i < 5; i++) {
          const { upserted } = await engine.upsert("a", [{
            id: `a-stalled-${i}`,
            vector: randomVector(random, DIM),
          }]);
          assert.equal(upserted, 1);
        }
        assert.equal(uploadSettled, false, "the writes completed while the upload hung");

        proxy.setMode("reset");
        for (let round = 0; round < 4; round++) {
          for (const name of ["a", "b"]) {
            for (let i = 0; i < 10; i++) {
              const { upserted } = await engine.upsert(name, [{
                id: `${name}-out-${round}-${i}`,
                vector: randomVector(random, DIM),
                metadata: { round },
              }]);
              assert.equal(upserted, 1);
            }
            await engine.createSnapshot(name); // durable locally; its upload fails
          }
        }
        await engine.uploads!.drain();
        const during = await call("GET", "/api/v1/admin/dlq");
        assert.equal(during.status, 200);
        assert.ok(during.json.size > 0, "the DLQ filled");
        assert.equal(during.json.circuit_breaker_state, 1, "the breaker is open");
        assert.ok(
          during.json.entries.every((e: { key: string }) => e.key.startsWith("collections/")),
        );

        proxy.setMode("pass");
        const reset = await call("POST", "/api/v1/admin/circuit-breaker/reset");
        assert.deepEqual([reset.status, reset.json.circuit_breaker_state], [200, 0]);
        const retried = await call("POST", "/api/v1/admin/dlq/retry-all");
        assert.equal(retried.status, 200);
        assert.equal(retried.json.remaining, 0, JSON.stringify(retried.json));
        assert.equal(retried.json.failed, 0);
        assert.ok(retried.json.succeeded > 0);
        assert.equal((await call("GET", "/api/v1/admin/dlq")).json.size, 0);

        for (const id of ids) {
          const local = await filesUnder(`${dir}/collections/${id}/snapshots`);
          assert.equal(local.size, 9);
          assert.deepEqual(await remoteFiles(engine, id), local, `seed ${seed}`);
        }
        assert.equal(engine.getCollection("a").vectorCount, 245); // 200 + 5 stalled + 4 × 10
        await engine.close();
      });
    } finally {
      await proxy.close();
      await s3.stop();
    }
  },
});
