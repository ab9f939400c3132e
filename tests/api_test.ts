import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createApp, createDeferredEngine } from "../src/api/mod.ts";
import { type Config, loadConfig } from "../src/config/mod.ts";
import type { Engine, SearchRequest } from "../src/engine/engine_types.ts";
import { CapacityError, CorruptionError } from "../src/errors.ts";
import { createLogger } from "../src/obs/logger.ts";
import { createEngine } from "../src/engine/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import { createFakeEngine } from "./support/fake_engine.ts";

const KEY = "k".repeat(16) + "-admin";
const RO_KEY = "r".repeat(16) + "-reader";

interface Harness extends AsyncDisposable {
  readonly app: Hono;
  readonly logLines: string[];
  readonly engine: Engine;
}

interface HarnessOptions {
  /** An engine to use instead of a real one on a temporary data directory. */
  readonly engine?: Engine;
  /** Wraps the engine the app gets (to observe calls). */
  readonly wrap?: (engine: Engine) => Engine;
  readonly apiKeys?: string;
  readonly maxBatchPoints?: number;
  readonly maxBodyBytes?: number;
}

const kernel = await loadKernel();

/** The app over the real engine (temporary data directory), unless a test brings its own. */
async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-api-test-" });
  const env: Record<string, string> = {};
  if (options.apiKeys !== undefined) env.AKIDB_API_KEYS = options.apiKeys;
  const loaded = loadConfig(["--data-dir", dataDir], env);
  const config: Config = {
    ...loaded,
    server: {
      ...loaded.server,
      maxBatchPoints: options.maxBatchPoints ?? loaded.server.maxBatchPoints,
      maxBodyBytes: options.maxBodyBytes ?? loaded.server.maxBodyBytes,
    },
  };
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", sink: (line) => logLines.push(line) });
  const engine = options.engine ??
    await createEngine({ config, kernel, logger: createLogger({ level: "error" }) });
  return {
    app: createApp({ engine: options.wrap?.(engine) ?? engine, config, logger, version: "9.9.9" }),
    logLines,
    engine,
    async [Symbol.asyncDispose]() {
      await engine.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

function json(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

async function expectError(response: Response, status: number, code?: string): Promise<string> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  assert.equal(typeof body.error.message, "string");
  if (code !== undefined) assert.equal(body.error.code, code, text);
  return body.error.message;
}

async function createCollection(
  app: Hono,
  name = "docs",
  dimension = 3,
  metric = "cosine",
): Promise<Record<string, unknown>> {
  const response = await app.request(
    "/api/v1/collections",
    json("POST", { name, dimension, metric }),
  );
  assert.equal(response.status, 201, await response.clone().text());
  return await response.json();
}

Deno.test("GET /health answers ok and the version, without a key", async () => {
  await using h = await harness({ apiKeys: KEY });
  const { app } = h;
  const response = await app.request("/health");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok", version: "9.9.9" });
});

Deno.test("GET /ready is 503 while recovering, 200 after, and lists failed collections", async () => {
  const engine = createFakeEngine({ readiness: { recovered: false, failedCollections: [] } });
  await using h = await harness({ engine, apiKeys: KEY });
  const { app } = h;
  const before = await app.request("/ready");
  assert.equal(before.status, 503);
  assert.equal((await before.json()).status, "recovering");
  await expectError(
    await app.request("/api/v1/collections", { headers: { "api-key": KEY } }),
    503,
    "not_ready",
  );
  engine.setReadiness({
    recovered: true,
    failedCollections: [{ name: "broken", error: "WAL checksum mismatch at LSN 7" }],
  });
  const after = await app.request("/ready");
  assert.equal(after.status, 200);
  assert.deepEqual(await after.json(), {
    status: "ready",
    failed_collections: [{ name: "broken", error: "WAL checksum mismatch at LSN 7" }],
  });
});

Deno.test("GET /ready is 503 until the deferred engine (main's startup) gets the real one", async () => {
  const deferred = createDeferredEngine();
  await using h = await harness({ engine: deferred.engine, apiKeys: KEY });
  const { app } = h;
  assert.equal((await app.request("/ready")).status, 503);
  assert.equal((await app.request("/health")).status, 200);
  const early = await app.request("/api/v1/collections", { headers: { "api-key": KEY } });
  assert.equal(early.headers.get("retry-after"), "1");
  await expectError(early, 503, "not_ready");
  deferred.resolve(createFakeEngine());
  assert.equal((await app.request("/ready")).status, 200);
  assert.equal(
    (await app.request("/api/v1/collections", { headers: { "api-key": KEY } })).status,
    200,
  );
});

Deno.test("collections: create, list, get by id and by name, conflict, delete", async () => {
  await using h = await harness();
  const { app } = h;
  const created = await createCollection(app, "docs", 3, "l2");
  assert.equal(created.name, "docs");
  assert.equal(created.dimension, 3);
  assert.equal(created.metric, "l2");
  assert.equal(created.vector_count, 0);
  assert.equal(created.tier, "hot");
  assert.equal(typeof created.collection_id, "string");
  assert.equal(typeof created.created_at, "string");
  assert.deepEqual(Object.keys(created.hnsw as object).sort(), [
    "ef_construction",
    "ef_search",
    "m",
  ]);

  await expectError(
    await app.request(
      "/api/v1/collections",
      json("POST", { name: "docs", dimension: 3, metric: "l2" }),
    ),
    409,
  );
  const list = await (await app.request("/api/v1/collections")).json();
  assert.deepEqual(list.collections.map((c: { name: string }) => c.name), ["docs"]);
  const byId = await app.request(`/api/v1/collections/${created.collection_id}`);
  assert.equal(byId.status, 200);
  assert.deepEqual(await byId.json(), created);
  assert.equal((await app.request("/api/v1/collections/docs")).status, 200);

  const deleted = await app.request("/api/v1/collections/docs", { method: "DELETE" });
  assert.equal(deleted.status, 204);
  assert.equal(await deleted.text(), "");
  await expectError(await app.request("/api/v1/collections/docs"), 404);
  await expectError(await app.request("/api/v1/collections/docs", { method: "DELETE" }), 404);
});

Deno.test("collections: create with hnsw settings renders them snake_case", async () => {
  await using h = await harness();
  const { app } = h;
  const response = await app.request(
    "/api/v1/collections",
    json("POST", {
      name: "tuned",
      dimension: 4,
      metric: "dot",
      hnsw: { m: 8, ef_construction: 100, ef_search: 32 },
    }),
  );
  assert.equal(response.status, 201);
  assert.deepEqual((await response.json()).hnsw, { m: 8, ef_construction: 100, ef_search: 32 });
});

Deno.test("collections: bad create bodies are 400 (shape) or 422 (values)", async () => {
  await using h = await harness();
  const { app } = h;
  const post = (body: unknown) => app.request("/api/v1/collections", json("POST", body));
  await expectError(await post("{"), 400, "invalid_json");
  await expectError(await post(""), 400, "invalid_json");
  await expectError(await post([]), 400, "invalid_request");
  await expectError(await post({ dimension: 3, metric: "l2" }), 400, "invalid_request");
  await expectError(await post({ name: "a", dimension: "3", metric: "l2" }), 400);
  await expectError(
    await post({ name: "a", dimension: 3, metric: "l2", extra: 1 }),
    400,
    "unknown_field",
  );
  await expectError(await post({ name: "a", dimension: 3, metric: "l2", hnsw: [] }), 400);
  await expectError(
    await post({ name: "../x", dimension: 3, metric: "l2" }),
    422,
    "invalid_collection_name",
  );
  await expectError(await post({ name: "_hidden", dimension: 3, metric: "l2" }), 422);
  await expectError(await post({ name: "a".repeat(65), dimension: 3, metric: "l2" }), 422);
  await expectError(await post({ name: "a", dimension: 0, metric: "l2" }), 422);
  await expectError(await post({ name: "a", dimension: 4097, metric: "l2" }), 422);
  await expectError(await post({ name: "a", dimension: 2.5, metric: "l2" }), 422);
  await expectError(
    await post({ name: "a", dimension: 3, metric: "hamming" }),
    422,
    "invalid_metric",
  );
  await expectError(await post({ name: "a", dimension: 3, metric: "l2", hnsw: { m: 1 } }), 422);
});

Deno.test("collection refs in paths must look like a name or id: no traversal", async () => {
  await using h = await harness();
  const { app } = h;
  await createCollection(app);
  for (const path of ["..%2Fdocs", "..%5Cdocs", "docs%00", "_x", "a%20b", "%C3%A9"]) {
    await expectError(
      await app.request(`/api/v1/collections/${path}`),
      400,
      "invalid_collection_ref",
    );
  }
  // The URL parser resolves dot segments ("%2E%2E" is ".."), so this leaves the route.
  await expectError(await app.request("/api/v1/collections/%2E%2E"), 404, "route_not_found");
  await expectError(await app.request("/api/v1/collections/missing"), 404);
});

Deno.test("vectors: upsert one and a batch, get, delete", async () => {
  await using h = await harness();
  const { app } = h;
  await createCollection(app);
  const one = await app.request(
    "/api/v1/collections/docs/vectors",
    json("POST", { id: "a1", vector: [1, 0, 0], metadata: { lang: "en" } }),
  );
  assert.equal(one.status, 200);
  const oneBody = await one.json();
  assert.equal(oneBody.upserted, 1);
  assert.equal(typeof oneBody.lsn, "number");

  const batch = await app.request(
    "/api/v1/collections/docs/vectors",
    json("POST", { vectors: [{ id: 7, vector: [0, 1, 0] }, { id: "b", vector: [0, 0, 1] }] }),
  );
  assert.equal(batch.status, 200);
  const batchBody = await batch.json();
  assert.equal(batchBody.upserted, 2);
  assert.ok(batchBody.lsn > oneBody.lsn);

  const got = await app.request("/api/v1/collections/docs/vectors/a1");
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), { id: "a1", vector: [1, 0, 0], metadata: { lang: "en" } });
  assert.equal((await (await app.request("/api/v1/collections/docs")).json()).vector_count, 3);

  const deleted = await app.request("/api/v1/collections/docs/vectors/a1", { method: "DELETE" });
  assert.equal(deleted.status, 200);
  assert.equal((await deleted.json()).deleted, true);
  await expectError(
    await app.request("/api/v1/collections/docs/vectors/a1"),
    404,
    "point_not_found",
  );
  await expectError(
    await app.request("/api/v1/collections/docs/vectors/a1", { method: "DELETE" }),
    404,
    "point_not_found",
  );
  await expectError(
    await app.request(
      "/api/v1/collections/nope/vectors",
      json("POST", { id: "x", vector: [1, 2, 3] }),
    ),
    404,
  );
});

Deno.test("vectors: an all-digit path id names the string id first, then the integer id", async () => {
  await using h = await harness();
  const { app } = h;
  await createCollection(app);
  const upsert = (body: unknown) =>
    app.request("/api/v1/collections/docs/vectors", json("POST", body));
  assert.equal((await upsert({ id: 7, vector: [0, 1, 0], metadata: { kind: "int" } })).status, 200);
  const asInteger = await (await app.request("/api/v1/collections/docs/vectors/7")).json();
  assert.deepEqual(asInteger, { id: 7, vector: [0, 1, 0], metadata: { kind: "int" } });

  assert.equal(
    (await upsert({ id: "7", vector: [1, 0, 0], metadata: { kind: "str" } })).status,
    200,
  );
  const asString = await (await app.request("/api/v1/collections/docs/vectors/7")).json();
  assert.equal(asString.id, "7");
  // Deleting "7" removes the string point; the integer point is then reachable again.
  assert.equal(
    (await app.request("/api/v1/collections/docs/vectors/7", { method: "DELETE" })).status,
    200,
  );
  assert.equal((await (await app.request("/api/v1/collections/docs/vectors/7")).json()).id, 7);
  assert.equal((await app.request("/api/v1/collections/docs/vectors/007")).status, 200);
  await expectError(await app.request("/api/v1/collections/docs/vectors/8"), 404);
});

Deno.test("vectors: bad upserts are 400 (shape), 422 (values) or 413 (batch size)", async () => {
  await using h = await harness({ maxBatchPoints: 3 });
  const { app } = h;
  await createCollection(app);
  const upsert = (body: unknown) =>
    app.request("/api/v1/collections/docs/vectors", json("POST", body));
  await expectError(await upsert("{not json"), 400, "invalid_json");
  await expectError(await upsert("null"), 400);
  await expectError(await upsert({ vector: [1, 2, 3] }), 400);
  await expectError(await upsert({ id: "a", vector: "1,2,3" }), 400);
  await expectError(await upsert({ id: "a", vector: [1, 2, 3], metadata: [1] }), 400);
  await expectError(
    await upsert({ id: "a", vector: [1, 2, 3], payload: {} }),
    400,
    "unknown_field",
  );
  await expectError(await upsert({ id: { x: 1 }, vector: [1, 2, 3] }), 400);
  await expectError(await upsert({ vectors: {} }), 400);
  await expectError(await upsert({ vectors: [1] }), 400);

  const stringElement = await expectError(
    await upsert({ id: "a", vector: [1, "2", 3] }),
    422,
    "invalid_vector",
  );
  assert.match(stringElement, /vector\[1\]/);
  assert.match(
    await expectError(await upsert({ id: "a", vector: [1, 2, null] }), 422),
    /vector\[2\] is null/,
  );
  assert.match(
    await expectError(await upsert('{"id":"a","vector":[1e999,0,0]}'), 422),
    /vector\[0\]/,
  );
  assert.match(await expectError(await upsert({ id: "a", vector: [1, 1e39, 0] }), 422), /float32/);
  await expectError(await upsert({ id: "a", vector: [] }), 422);
  await expectError(await upsert({ id: "a", vector: [1, 2] }), 422, "dimension_mismatch");
  await expectError(await upsert({ id: "", vector: [1, 2, 3] }), 422);
  await expectError(await upsert({ id: -1, vector: [1, 2, 3] }), 422);
  await expectError(await upsert({ id: 1.5, vector: [1, 2, 3] }), 422);
  await expectError(await upsert({ vectors: [] }), 422, "empty_batch");
  const four = [1, 2, 3, 4].map((id) => ({ id, vector: [1, 2, 3] }));
  await expectError(await upsert({ vectors: four }), 413, "batch_too_large");
  // A rejected batch writes nothing.
  assert.equal((await (await app.request("/api/v1/collections/docs")).json()).vector_count, 0);
});

Deno.test("bodies over max_body_bytes are 413, with or without Content-Length", async () => {
  await using h = await harness({ maxBodyBytes: 1024 });
  const { app } = h;
  await createCollection(app);
  const big = JSON.stringify({ id: "a", vector: [1, 2, 3], metadata: { pad: "x".repeat(2000) } });
  await expectError(
    await app.request("/api/v1/collections/docs/vectors", json("POST", big)),
    413,
    "payload_too_large",
  );
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      // An endless body: the reader must stop at the limit, not buffer forever.
      sent += 256;
      controller.enqueue(new TextEncoder().encode(" ".repeat(256)));
    },
  });
  const response = await app.request("/api/v1/collections/docs/vectors", {
    method: "POST",
    body: stream,
    duplex: "half",
  } as RequestInit);
  await expectError(response, 413, "payload_too_large");
  assert.ok(sent < 4096, `read ${sent} bytes of an endless body`);
  // A lying Content-Length does not help either, over or under the body's real length.
  await expectError(
    await app.request("/api/v1/collections/docs/vectors", {
      method: "POST",
      headers: { "content-length": "10" },
      body: big,
    }),
    413,
    "payload_too_large",
  );
  await expectError(
    await app.request("/api/v1/collections/docs/vectors", {
      method: "POST",
      headers: { "content-length": "5000000" },
      body: "{}",
    }),
    413,
  );
});

Deno.test("search: results, scores, include flags, ef → efSearch, filter → mustNot", async () => {
  let seen: SearchRequest | undefined;
  const wrap = (engine: Engine): Engine =>
    new Proxy(engine, {
      get(target, property) {
        if (property === "search") {
          return (c: string, request: SearchRequest) => {
            seen = request;
            return target.search(c, request);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  await using h = await harness({ wrap });
  const { app } = h;
  await createCollection(app, "docs", 3, "cosine");
  const points = [
    { id: "x", vector: [1, 0, 0], metadata: { tag: "a", n: 1 } },
    { id: "y", vector: [0, 1, 0], metadata: { tag: "b", n: 2 } },
    { id: 3, vector: [0.9, 0.1, 0] },
  ];
  await app.request("/api/v1/collections/docs/vectors", json("POST", { vectors: points }));
  const search = (body: unknown) =>
    app.request("/api/v1/collections/docs/search", json("POST", body));

  const response = await search({
    vector: [1, 0, 0],
    k: 2,
    ef: 50,
    include_vector: true,
    filter: {
      must: [{ key: "n", range: { gte: 1 } }],
      must_not: [{ key: "tag", match: { any: ["z"] } }],
    },
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(typeof body.took_ms, "number");
  assert.equal(body.results.length, 2);
  assert.equal(body.results[0].id, "x");
  assert.ok(Math.abs(body.results[0].score - 1) < 1e-6);
  assert.deepEqual(body.results[0].metadata, { tag: "a", n: 1 });
  assert.deepEqual(body.results[0].vector, [1, 0, 0]);
  assert.equal(seen?.efSearch, 50);
  assert.equal(seen?.k, 2);
  assert.deepEqual(seen?.filter, {
    must: [{ key: "n", range: { gte: 1 } }],
    mustNot: [{ key: "tag", match: { any: ["z"] } }],
  });

  const plain = await (await search({ vector: [0, 1, 0], k: 10, include_metadata: false })).json();
  assert.equal(plain.results.length, 3);
  assert.equal(plain.results[0].id, "y");
  assert.equal("metadata" in plain.results[0], false);
  assert.equal("vector" in plain.results[0], false);
});

Deno.test("search: bad requests are 400 (shape) or 422 (values), never 5xx", async () => {
  await using h = await harness();
  const { app } = h;
  await createCollection(app);
  const search = (body: unknown) =>
    app.request("/api/v1/collections/docs/search", json("POST", body));
  await expectError(await search("[1,2"), 400, "invalid_json");
  await expectError(await search({ k: 1 }), 400);
  await expectError(await search({ vector: [1, 0, 0] }), 400);
  await expectError(await search({ vector: [1, 0, 0], k: "10" }), 400);
  await expectError(await search({ vector: [1, 0, 0], k: 1, include_vector: "yes" }), 400);
  await expectError(await search({ vector: [1, 0, 0], k: 1, top_k: 1 }), 400, "unknown_field");
  await expectError(await search({ vector: [1, 0, 0], k: 1, filter: { should: [] } }), 400);
  await expectError(await search({ vector: [1, 0, 0], k: 1, filter: { must: {} } }), 400);
  await expectError(
    await search({ vector: [1, 0, 0], k: 1, filter: { must: [{ key: 1, match: 1 }] } }),
    400,
  );
  await expectError(
    await search({ vector: [1, 0, 0], k: 1, filter: { must: [{ key: "a", range: {} }] } }),
    400,
  );
  await expectError(
    await search({
      vector: [1, 0, 0],
      k: 1,
      filter: { must: [{ key: "a", match: { any: [{}] } }] },
    }),
    400,
  );
  await expectError(await search({ vector: [1, 0, 0], k: 0 }), 422);
  await expectError(await search({ vector: [1, 0, 0], k: 1001 }), 422);
  await expectError(await search({ vector: [1, 0, 0], k: 1.5 }), 422);
  await expectError(await search({ vector: [1, 0, 0], k: 1, ef: 0 }), 422);
  await expectError(await search({ vector: [1, "x", 0], k: 1 }), 422, "invalid_vector");
  await expectError(await search({ vector: [1, 0], k: 1 }), 422, "dimension_mismatch");
  const many = Array.from({ length: 65 }, (_, i) => ({ key: `k${i}`, match: i }));
  await expectError(
    await search({ vector: [1, 0, 0], k: 1, filter: { must: many } }),
    422,
    "filter_too_large",
  );
  await expectError(
    await app.request("/api/v1/collections/nope/search", json("POST", { vector: [1, 0, 0], k: 1 })),
    404,
  );
});

Deno.test("auth: 401 without or with a wrong key, Bearer and api-key accepted", async () => {
  await using h = await harness({ apiKeys: `${KEY},${RO_KEY}:ro` });
  const { app } = h;
  await expectError(await app.request("/api/v1/collections"), 401, "unauthorized");
  await expectError(
    await app.request("/api/v1/collections", { headers: { authorization: `Bearer ${KEY}x` } }),
    401,
    "unauthorized",
  );
  await expectError(
    await app.request("/api/v1/collections", { headers: { authorization: `Basic ${KEY}` } }),
    401,
  );
  await expectError(await app.request("/api/v1/nothing-here"), 401);
  const unauthorized = await app.request("/api/v1/collections");
  assert.equal(unauthorized.headers.get("www-authenticate"), 'Bearer realm="akidb"');
  assert.equal(
    (await app.request("/api/v1/collections", { headers: { authorization: `Bearer ${KEY}` } }))
      .status,
    200,
  );
  assert.equal(
    (await app.request("/api/v1/collections", { headers: { "api-key": KEY } })).status,
    200,
  );
  assert.equal((await app.request("/health")).status, 200);
  assert.equal((await app.request("/ready")).status, 200);
});

Deno.test("auth: a read-only key may read and search, not write (403)", async () => {
  await using h = await harness({ apiKeys: `${KEY},${RO_KEY}:ro` });
  const { app } = h;
  const admin = { "api-key": KEY };
  const reader = { authorization: `Bearer ${RO_KEY}` };
  const create = json("POST", { name: "docs", dimension: 3, metric: "l2" }, admin);
  assert.equal((await app.request("/api/v1/collections", create)).status, 201);
  const upsert = { id: "a", vector: [1, 2, 3] };
  assert.equal(
    (await app.request("/api/v1/collections/docs/vectors", json("POST", upsert, admin))).status,
    200,
  );

  assert.equal((await app.request("/api/v1/collections/docs", { headers: reader })).status, 200);
  assert.equal(
    (await app.request("/api/v1/collections/docs/vectors/a", { headers: reader })).status,
    200,
  );
  const search = json("POST", { vector: [1, 2, 3], k: 1 }, reader);
  assert.equal((await app.request("/api/v1/collections/docs/search", search)).status, 200);

  await expectError(
    await app.request("/api/v1/collections/docs/vectors", json("POST", upsert, reader)),
    403,
    "forbidden",
  );
  await expectError(
    await app.request(
      "/api/v1/collections",
      json("POST", { name: "b", dimension: 3, metric: "l2" }, reader),
    ),
    403,
  );
  await expectError(
    await app.request("/api/v1/collections/docs/vectors/a", { method: "DELETE", headers: reader }),
    403,
  );
  await expectError(
    await app.request("/api/v1/collections/docs", { method: "DELETE", headers: reader }),
    403,
  );
});

Deno.test("an unexpected engine error is 500 internal, generic, and logged in full", async () => {
  const engine = createFakeEngine({ failWith: () => new Error("disk /secret/path exploded") });
  await using h = await harness({ engine });
  const { app } = h;
  const response = await app.request("/api/v1/collections");
  const message = await expectError(response, 500, "internal");
  assert.doesNotMatch(message, /secret/);
  assert.ok(
    h.logLines.some((line) => line.includes("/secret/path") && line.includes('"level":"error"')),
  );
});

Deno.test("domain errors map to 503 (corruption, overload) and 507 (capacity)", async () => {
  const cases: [unknown, number, string][] = [
    [
      new CorruptionError("WAL checksum mismatch in /data/x", { code: "wal_corrupted" }),
      503,
      "wal_corrupted",
    ],
    [new CapacityError("Cannot append: disk full", { code: "disk_full" }), 507, "disk_full"],
    [
      new CapacityError("Cannot append: pending bytes over bound", { code: "wal_queue_full" }),
      503,
      "wal_queue_full",
    ],
    [new CapacityError("Cannot grow segment"), 507, "insufficient_capacity"],
  ];
  for (const [error, status, code] of cases) {
    await using h = await harness({ engine: createFakeEngine({ failWith: () => error }) });
    const { app } = h;
    const response = await app.request("/api/v1/collections/docs");
    const message = await expectError(response, status, code);
    if (error instanceof CorruptionError) assert.doesNotMatch(message, /\/data\/x/);
    if (status === 503) {
      assert.ok(response.headers.get("retry-after") !== null || code === "wal_corrupted");
    }
  }
});

Deno.test("unknown routes are 404 route_not_found", async () => {
  await using h = await harness();
  const { app } = h;
  await expectError(await app.request("/api/v2/anything"), 404, "route_not_found");
  await expectError(await app.request("/api/v1/collections/docs/vectors"), 404, "route_not_found");
});
