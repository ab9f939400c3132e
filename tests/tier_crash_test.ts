/**
 * SIGKILL of a real server process with S3 configured and collections in
 * every tier: on restart, the hot collection is recovered from its newest
 * snapshot + the WAL after it (writes acknowledged after the snapshot
 * included), the warm one stays warm and the cold one stays cold until
 * accessed, and every acknowledged write is there.
 */

import assert from "node:assert/strict";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";
import { startS3Server } from "./support/s3_server.ts";
import { startServer } from "./support/server_process.ts";

const DIM = 8;

Deno.test({
  name:
    "SIGKILL with hot, warm and cold collections: snapshot + WAL recovery, tiers kept, nothing lost",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const seed = testSeed("tier sigkill");
    const random = seededRandom(seed);
    const s3 = await startS3Server();
    const dataDir = await Deno.makeTempDir({ prefix: "akidb-tier-crash-" });
    const env = {
      AKIDB_S3_ENDPOINT: s3.endpoint,
      AKIDB_S3_BUCKET: s3.bucket,
      AKIDB_S3_ACCESS_KEY_ID: s3.accessKeyId,
      AKIDB_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AKIDB_S3_PREFIX: "crash",
      AKIDB_LOG_LEVEL: "warn",
    };
    try {
      let server = await startServer({ dataDir, env });
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${server.baseUrl}${path}`, {
          method,
          ...(body === undefined ? {} : {
            body: JSON.stringify(body),
            headers: { "content-type": "application/json" },
          }),
        });
        return { status: response.status, json: await response.json() };
      };
      const acknowledged = new Map<string, Map<string, number[]>>();
      const write = async (c: string, count: number, prefix: string) => {
        const vectors = Array.from({ length: count }, (_, i) => ({
          id: `${prefix}${i}`,
          vector: [...randomVector(random, DIM)],
          metadata: { prefix, i },
        }));
        const r = await call("POST", `/api/v1/collections/${c}/vectors`, { vectors });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        const map = acknowledged.get(c) ?? new Map();
        for (const v of vectors) map.set(v.id, v.vector);
        acknowledged.set(c, map);
      };
      for (const c of ["hot", "warm", "cold"]) {
        assert.equal(
          (await call("POST", "/api/v1/collections", { name: c, dimension: DIM, metric: "l2" }))
            .status,
          201,
        );
        await write(c, 300, "a");
        assert.equal((await call("POST", `/api/v1/collections/${c}/snapshots`)).status, 201);
        await write(c, 100, "b"); // only in the WAL
      }
      assert.equal(
        (await call("POST", "/api/v1/admin/collections/warm/demote", { tier: "warm" })).json.tier,
        "warm",
      );
      const cold = await call("POST", "/api/v1/admin/collections/cold/demote", { tier: "cold" });
      assert.equal(cold.json.tier, "cold", JSON.stringify(cold.json));
      await write("hot", 50, "c"); // acknowledged after every snapshot
      server.kill("SIGKILL");
      await server.exited;

      server = await startServer({ dataDir, env });
      assert.equal((await call("GET", "/api/v1/collections/warm/tier")).json.tier, "warm");
      assert.equal((await call("GET", "/api/v1/collections/cold/tier")).json.tier, "cold");
      assert.equal((await call("GET", "/api/v1/collections/hot/tier")).json.tier, "hot");
      for (const [c, points] of acknowledged) {
        const info = await call("GET", `/api/v1/collections/${c}`);
        assert.equal(info.json.vector_count, points.size, `${c}, seed ${seed}`);
        for (const [id, vector] of points) {
          const r = await call("GET", `/api/v1/collections/${c}/vectors/${id}`);
          assert.equal(r.status, 200, `${c}/${id}`);
          assert.deepEqual(r.json.vector, vector, `${c}/${id}, seed ${seed}`);
        }
        assert.equal((await call("GET", `/api/v1/collections/${c}/tier`)).json.tier, "hot");
      }
      await server.stop();
    } finally {
      await s3.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
    }
  },
});
