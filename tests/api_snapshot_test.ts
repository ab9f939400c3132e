/**
 * The snapshot routes over the real engine, in-process: create (201 +
 * manifest), list, restore ("latest" and by id), bad and unknown ids, a
 * corrupt snapshot, read-only keys, and a restart through the deferred engine
 * with the WAL segments before the snapshot gone.
 */

import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createApp, createDeferredEngine } from "../src/api/mod.ts";
import { loadConfig } from "../src/config/mod.ts";
import { createEngine } from "../src/engine/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import { createLogger } from "../src/obs/logger.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";

const kernel = await loadKernel();
const KEY = "k".repeat(16) + "-admin";
const RO_KEY = "r".repeat(16) + "-reader";

interface Server {
  readonly app: Hono;
  close(): Promise<void>;
}

async function start(dataDir: string): Promise<Server> {
  const toml = `${dataDir}/akidb.toml`;
  await Deno.writeTextFile(toml, "[wal]\nsegment_size_bytes = 1048576\n");
  const config = loadConfig(["--data-dir", dataDir, "--config", toml], {
    AKIDB_API_KEYS: `${KEY},${RO_KEY}:ro`,
  });
  const deferred = createDeferredEngine();
  const logger = createLogger({ level: "error", sink: () => {} });
  const app = createApp({ engine: deferred.engine, config, logger, version: "test" });
  const engine = await createEngine({ config, kernel, logger });
  deferred.resolve(engine);
  return { app, close: () => engine.close() };
}

async function call(
  app: Hono,
  method: string,
  path: string,
  body?: unknown,
  key = KEY,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? {} : JSON.parse(text) };
}

function points(random: () => number, from: number, count: number, dimension: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: (from + i) % 2 === 0 ? from + i : `doc-${from + i}`,
    vector: Array.from(randomVector(random, dimension)),
    metadata: { n: from + i, text: `point ${from + i}` },
  }));
}

Deno.test("snapshot API: create, list, restore, errors, restart", async () => {
  const random = seededRandom(testSeed("api snapshots"));
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-api-snap-" });
  let server = await start(dataDir);
  try {
    const dimension = 256;
    const created = await call(server.app, "POST", "/api/v1/collections", {
      name: "docs",
      dimension,
      metric: "cosine",
    });
    assert.equal(created.status, 201);
    const collectionId = created.json.collection_id as string;
    for (let b = 0; b < 12; b++) {
      const r = await call(server.app, "POST", "/api/v1/collections/docs/vectors", {
        vectors: points(random, b * 100, 100, dimension),
      });
      assert.equal(r.status, 200);
    }
    const walDir = `${dataDir}/collections/${collectionId}/wal`;
    const segmentsBefore = [...Deno.readDirSync(walDir)].map((e) => e.name).sort();
    assert.ok(segmentsBefore.length >= 2);

    const snap = await call(server.app, "POST", "/api/v1/collections/docs/snapshots");
    assert.equal(snap.status, 201);
    assert.equal(snap.json.lsn, 12);
    assert.equal(snap.json.vector_count, 1200);
    assert.equal(snap.json.collection_id, collectionId);
    assert.equal(snap.json.metric, "cosine");
    assert.equal(snap.json.dimension, dimension);
    const files = snap.json.files as Record<string, { size_bytes: number; sha256: string }>;
    assert.match(files["vectors.parquet"]!.sha256, /^[0-9a-f]{64}$/);
    assert.ok(files["graph.bin"]!.size_bytes > 0);
    const segmentsAfter = [...Deno.readDirSync(walDir)].map((e) => e.name).sort();
    assert.ok(!segmentsAfter.includes(segmentsBefore[0]!), "the first WAL segment is gone");

    // Read-only keys may list but not create or restore.
    const listedRo = await call(
      server.app,
      "GET",
      "/api/v1/collections/docs/snapshots",
      undefined,
      RO_KEY,
    );
    assert.equal(listedRo.status, 200);
    assert.deepEqual(
      (listedRo.json.snapshots as { snapshot_id: string }[]).map((s) => s.snapshot_id),
      [snap.json.snapshot_id],
    );
    const denied = await call(
      server.app,
      "POST",
      "/api/v1/collections/docs/snapshots",
      undefined,
      RO_KEY,
    );
    assert.equal(denied.status, 403);

    // More writes, then restore the snapshot: they are undone.
    await call(server.app, "POST", "/api/v1/collections/docs/vectors", {
      vectors: points(random, 5000, 10, dimension),
    });
    const before = await call(server.app, "GET", "/api/v1/collections/docs/vectors/doc-7");
    const restored = await call(server.app, "POST", "/api/v1/admin/collections/docs/restore", {
      snapshot_id: snap.json.snapshot_id,
    });
    assert.equal(restored.status, 200, JSON.stringify(restored.json));
    assert.equal(restored.json.snapshot_id, snap.json.snapshot_id);
    assert.equal(restored.json.restored_at_lsn, 13);
    assert.match(restored.json.checkpoint_snapshot_id as string, /^00000000000000000013-/);
    assert.equal(
      (await call(server.app, "GET", "/api/v1/collections/docs")).json.vector_count,
      1200,
    );
    const latest = await call(server.app, "POST", "/api/v1/admin/collections/docs/restore", {
      snapshot_id: "latest",
    });
    assert.equal(latest.status, 200);
    assert.equal(latest.json.snapshot_id, restored.json.checkpoint_snapshot_id);

    // Bad input and unknown ids.
    const cases: [unknown, number, string][] = [
      [{ snapshot_id: "nope" }, 422, "invalid_snapshot_id"],
      [{ snapshot_id: 7 }, 400, "invalid_request"],
      [{}, 400, "invalid_request"],
      [{ snapshot_id: "00000000000000000005-0000abcd" }, 404, "snapshot_not_found"],
    ];
    for (const [body, status, code] of cases) {
      const r = await call(server.app, "POST", "/api/v1/admin/collections/docs/restore", body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal((r.json.error as { code: string }).code, code);
    }
    const missing = await call(server.app, "POST", "/api/v1/collections/nope/snapshots");
    assert.equal(missing.status, 404);

    // A corrupt snapshot is refused with 422 snapshot_corrupt; the collection keeps serving.
    const sid = latest.json.snapshot_id as string;
    const graph = `${dataDir}/collections/${collectionId}/snapshots/${sid}/graph.bin`;
    const bytes = await Deno.readFile(graph);
    bytes[100]! ^= 1;
    await Deno.writeFile(graph, bytes);
    const corrupt = await call(server.app, "POST", "/api/v1/admin/collections/docs/restore", {
      snapshot_id: sid,
    });
    assert.equal(corrupt.status, 422);
    assert.equal((corrupt.json.error as { code: string }).code, "snapshot_corrupt");
    assert.match((corrupt.json.error as { message: string }).message, /graph\.bin/);
    bytes[100]! ^= 1;
    await Deno.writeFile(graph, bytes);
    assert.deepEqual(
      (await call(server.app, "GET", "/api/v1/collections/docs/vectors/doc-7")).json,
      before.json,
    );

    // Restart: everything present, bit-exact (vectors round-trip through JSON as float32).
    await call(server.app, "POST", "/api/v1/collections/docs/vectors", {
      vectors: points(random, 7000, 3, dimension),
    });
    const after = await call(server.app, "GET", "/api/v1/collections/docs/vectors/7000");
    await server.close();
    server = await start(dataDir);
    assert.equal(
      (await call(server.app, "GET", "/api/v1/collections/docs")).json.vector_count,
      1203,
    );
    assert.deepEqual(
      (await call(server.app, "GET", "/api/v1/collections/docs/vectors/doc-7")).json,
      before.json,
    );
    assert.deepEqual(
      (await call(server.app, "GET", "/api/v1/collections/docs/vectors/7000")).json,
      after.json,
    );
  } finally {
    await server.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
