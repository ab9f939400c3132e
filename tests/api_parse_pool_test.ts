/**
 * The upsert route with large bodies parsed in worker threads (`src/api/parse_pool.ts`) against
 * the same route parsing inline: the same stored points, the same 4xx JSON errors (nothing
 * written), and an event loop that answers other requests while a big batch is being parsed.
 */

import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createApp } from "../src/api/mod.ts";
import { ParsePool } from "../src/api/parse_pool.ts";
import { loadConfig } from "../src/config/mod.ts";
import type { Engine } from "../src/engine/engine_types.ts";
import { createEngine } from "../src/engine/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import { createLogger } from "../src/obs/logger.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";

const kernel = await loadKernel();
const DIMENSION = 16;

interface Apps extends AsyncDisposable {
  /** Parses every body in a worker (`inlineBytesMax` 0). */
  readonly pooled: Hono;
  /** Parses every body on the request thread (no pool). */
  readonly inline: Hono;
  readonly pool: ParsePool;
  readonly engine: Engine;
}

/** Two apps over one engine: one with a parse pool that takes every body, one without. */
async function apps(): Promise<Apps> {
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-parse-pool-test-" });
  const config = loadConfig(["--data-dir", dataDir], {});
  const engine = await createEngine({ config, kernel, logger: createLogger({ level: "error" }) });
  const pool = new ParsePool({ workers: 2, inlineBytesMax: 0 });
  const logger = createLogger({ level: "error" });
  const common = { engine, config, logger, version: "0.0.0" };
  return {
    pooled: createApp({ ...common, parsePool: pool }),
    inline: createApp(common),
    pool,
    engine,
    async [Symbol.asyncDispose]() {
      pool.close();
      await engine.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

async function call(app: Hono, method: string, path: string, body?: BodyInit) {
  const response = await app.request(path, { method, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, text, json: text === "" ? undefined : JSON.parse(text) };
}

async function createCollection(app: Hono, name: string, dimension = DIMENSION): Promise<void> {
  const body = JSON.stringify({ name, dimension, metric: "cosine" });
  assert.equal((await call(app, "POST", "/api/v1/collections", body)).status, 201);
}

/** `count` seeded points: integer and string ids (some repeated), vectors, some metadata. */
function randomPoints(random: () => number, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const id = i % 3 === 0 ? `p-${Math.floor(random() * count)}` : Math.floor(random() * count);
    const vector = Array.from(randomVector(random, DIMENSION));
    if (random() < 0.5) return { id, vector };
    const metadata = {
      i,
      tag: random() < 0.5 ? "a" : "b",
      score: random(),
      nested: { n: [i, -0] },
    };
    return { id, vector, metadata };
  });
}

Deno.test("parse pool: worker and inline paths store identical points", async () => {
  const seed = testSeed("parse pool identical points");
  const random = seededRandom(seed);
  await using env = await apps();
  await createCollection(env.inline, "inline");
  await createCollection(env.inline, "pooled");
  const points = randomPoints(random, 1500);
  const body = JSON.stringify({ vectors: points });
  const inline = await call(env.inline, "POST", "/api/v1/collections/inline/vectors", body);
  const pooled = await call(env.pooled, "POST", "/api/v1/collections/pooled/vectors", body);
  assert.equal(inline.status, 200, inline.text);
  assert.equal(pooled.status, 200, pooled.text);
  assert.equal(pooled.json.upserted, inline.json.upserted);
  const ids = new Set(points.map((point) => point.id as string | number));
  assert.equal(env.engine.getCollection("pooled").vectorCount, ids.size);
  for (const id of ids) {
    const [a, b] = await Promise.all([
      env.engine.getPoint("inline", id),
      env.engine.getPoint("pooled", id),
    ]);
    assert.ok(a !== undefined && b !== undefined, `point ${id} missing (SEED=${seed})`);
    assert.deepEqual(b.vector, a.vector, `vector of ${id} differs (SEED=${seed})`);
    assert.deepEqual(b.metadata, a.metadata, `metadata of ${id} differs (SEED=${seed})`);
  }
});

Deno.test("parse pool: one bad vector deep in a batch gets the inline 4xx error, nothing written", async () => {
  const seed = testSeed("parse pool bad vector");
  const random = seededRandom(seed);
  await using env = await apps();
  await createCollection(env.inline, "c");
  const points = randomPoints(random, 1000);
  const bad = 500 + Math.floor(random() * 499);
  (points[bad]!.vector as unknown[])[7] = "7";
  const body = JSON.stringify({ vectors: points });
  const inline = await call(env.inline, "POST", "/api/v1/collections/c/vectors", body);
  const pooled = await call(env.pooled, "POST", "/api/v1/collections/c/vectors", body);
  assert.equal(inline.status, 422);
  assert.equal(inline.json.error.code, "invalid_vector");
  assert.match(inline.json.error.message, new RegExp(`vectors\\[${bad}\\]\\.vector\\[7\\]`));
  assert.deepEqual(pooled, inline, `SEED=${seed}`);
  assert.equal(env.engine.getCollection("c").vectorCount, 0);
  assert.equal(await env.engine.getPoint("c", points[0]!.id as string | number), undefined);
});

Deno.test("parse pool: every kind of bad body gets exactly the inline response", async () => {
  await using env = await apps();
  await createCollection(env.inline, "c");
  const vector = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const batch = (points: unknown[]) => JSON.stringify({ vectors: points });
  const cases: [string, string, BodyInit][] = [
    ["not JSON", "c", '{"vectors":[{"id":1,'],
    ["empty", "c", ""],
    ["not UTF-8", "c", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ["not an object", "c", "[1,2]"],
    ["unknown field", "c", JSON.stringify({ id: 1, vector: vector(DIMENSION), extra: 1 })],
    ["vectors not an array", "c", JSON.stringify({ vectors: {} })],
    ["empty batch", "c", batch([])],
    ["id missing", "c", batch([{ vector: vector(DIMENSION) }])],
    ["vector of strings", "c", batch([{ id: 1, vector: ["a"] }])],
    ["number too large for float32", "c", batch([{ id: 1, vector: [1e39, ...vector(15)] }])],
    ["metadata an array", "c", batch([{ id: 1, vector: vector(DIMENSION), metadata: [1] }])],
    [
      "wrong dimension deep inside",
      "c",
      batch([
        ...Array.from({ length: 50 }, (_, i) => ({ id: i, vector: vector(DIMENSION) })),
        { id: 50, vector: vector(DIMENSION + 1) },
      ]),
    ],
    ["zero vector under cosine", "c", batch([{ id: 1, vector: new Array(DIMENSION).fill(0) }])],
    ["empty id", "c", batch([{ id: "", vector: vector(DIMENSION) }])],
    [
      "too many points",
      "c",
      batch(Array.from({ length: 10_001 }, (_, i) => ({ id: i, vector: [1] }))),
    ],
    ["unknown collection, valid body", "nope", batch([{ id: 1, vector: vector(DIMENSION) }])],
    ["unknown collection, bad body", "nope", '{"vectors":'],
  ];
  for (const [label, collection, body] of cases) {
    const path = `/api/v1/collections/${collection}/vectors`;
    const copy = () => body instanceof Uint8Array ? body.slice() : body;
    const inline = await call(env.inline, "POST", path, copy());
    const pooled = await call(env.pooled, "POST", path, copy());
    assert.ok(inline.status >= 400 && inline.status < 500, `${label}: ${inline.status}`);
    assert.deepEqual(pooled, inline, label);
  }
  assert.equal(env.engine.getCollection("c").vectorCount, 0);
});

Deno.test("parse pool: the event loop answers /health while a big batch is parsed", async () => {
  const seed = testSeed("parse pool responsiveness");
  const random = seededRandom(seed);
  await using env = await apps();
  await createCollection(env.inline, "c", 64);
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    env.pooled.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  // Both workers loaded first, so what follows measures parsing, not worker start-up.
  const small = () => new TextEncoder().encode('{"id":1,"vector":[1,2]}');
  await Promise.all([env.pool.parseUpsert(small(), 10, 2), env.pool.parseUpsert(small(), 10, 2)]);
  // ≈ 12 MB of JSON: tens of milliseconds of parsing, all of it in a worker.
  const points = Array.from({ length: 10_000 }, (_, i) => ({
    id: i,
    vector: Array.from(randomVector(random, 64)),
  }));
  const upsert = fetch(`${base}/api/v1/collections/c/vectors`, {
    method: "POST",
    body: JSON.stringify({ vectors: points }),
  });
  let answered = false;
  const upserted = upsert.finally(() => answered = true);
  while (env.pool.inFlightCount === 0 && !answered) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  // Requests served from start to finish over the socket while the batch is in the worker.
  let servedDuringParse = 0;
  while (env.pool.inFlightCount > 0) {
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    if (env.pool.inFlightCount > 0) servedDuringParse += 1;
  }
  const response = await upserted;
  assert.equal(response.status, 200, await response.text());
  assert.ok(servedDuringParse > 0, "no request completed while the batch was being parsed");
  assert.equal(env.engine.getCollection("c").vectorCount, 10_000);
});

Deno.test("parse pool: close fails queued work with 503 shutting_down and stops the workers", async () => {
  const pool = new ParsePool({ workers: 1, inlineBytesMax: 0 });
  const body = () => new TextEncoder().encode(JSON.stringify({ id: 1, vector: [1, 2] }));
  const jobs = [pool.parseUpsert(body(), 10, 2), pool.parseUpsert(body(), 10, 2)];
  pool.close();
  for (const job of jobs) {
    await assert.rejects(job, (error: Error & { code?: string }) => error.code === "shutting_down");
  }
  await assert.rejects(
    pool.parseUpsert(body(), 10, 2),
    (error: Error & { code?: string }) => error.code === "shutting_down",
  );
  // Small bodies under the inline threshold never need a worker.
  const small = new ParsePool({ workers: 1 });
  small.close();
  assert.deepEqual((await small.parseUpsert(body(), 10, 2))?.ids, [1]);
});
