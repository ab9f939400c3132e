/**
 * Seeded fuzzing of the HTTP layer: thousands of malformed requests (random
 * bytes, wrong types, huge numbers, deep nesting, bad ids, traversal names,
 * oversized bodies, junk headers) must never get a 5xx, and the server must
 * still answer afterwards. `SEED=<n>` reproduces a run.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createApp } from "../src/api/mod.ts";
import { type Config, loadConfig } from "../src/config/mod.ts";
import { createEngine } from "../src/engine/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import { createLogger } from "../src/obs/logger.ts";
import { startServer } from "./support/server_process.ts";
import { seededRandom, testSeed } from "./support/seeded_random.ts";

const DIMENSION = 4;
const MAX_BODY_BYTES = 64 * 1024;

type Random = () => number;

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | string | undefined;
}

const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)]!;
const int = (random: Random, max: number) => Math.floor(random() * max);

const COLLECTION_REFS = [
  "fuzz",
  "missing",
  "..%2F..%2Fetc",
  "..",
  "%2e%2e%2f",
  "a%00b",
  "%zz",
  "%",
  "_x",
  "-x",
  "x".repeat(65),
  "x".repeat(5000),
  "%F0%9F%92%A9",
  "%C0%AE%C0%AE",
  "00000000-0000-7000-8000-000000000000",
  "fuzz%2Fvectors",
];

const POINT_IDS = [
  "1",
  "0",
  "007",
  "99999999999999999999",
  "9007199254740993",
  "-1",
  "1.5",
  "a1",
  "%00",
  "%zz",
  "x".repeat(300),
  "%E2%82%AC",
  "..%2F..",
];

function randomScalar(random: Random): unknown {
  return pick(random, [
    () => random() * 2 - 1,
    () => int(random, 1000),
    () => 1e308,
    () => -1e308,
    () => Number.MAX_SAFE_INTEGER + 2,
    () => -0,
    () => 1e-320,
    () => "NaN",
    () => "Infinity",
    () => "",
    () => "x".repeat(int(random, 300)),
    () => null,
    () => true,
    () => false,
    () => "\u0000\ud800",
  ])();
}

function randomJson(random: Random, depth: number): unknown {
  if (depth <= 0 || random() < 0.4) return randomScalar(random);
  if (random() < 0.5) {
    return Array.from({ length: int(random, 6) }, () => randomJson(random, depth - 1));
  }
  const keys = [
    "id",
    "vector",
    "metadata",
    "vectors",
    "k",
    "ef",
    "filter",
    "must",
    "must_not",
    "key",
    "match",
    "any",
    "range",
    "gt",
    "lt",
    "name",
    "dimension",
    "metric",
    "hnsw",
    "m",
    "__proto__",
    "constructor",
    "include_vector",
  ];
  const object: Record<string, unknown> = {};
  for (let i = int(random, 5); i > 0; i--) {
    object[pick(random, keys)] = randomJson(random, depth - 1);
  }
  return object;
}

/** A structurally plausible body with one or more fields corrupted. */
function mutatedBody(random: Random): unknown {
  const vector = () =>
    random() < 0.7
      ? Array.from({ length: DIMENSION }, () => random() < 0.9 ? random() : randomScalar(random))
      : randomJson(random, 2);
  const bodies: (() => Record<string, unknown>)[] = [
    () => ({ id: randomScalar(random), vector: vector(), metadata: randomJson(random, 3) }),
    () => ({
      vectors: Array.from(
        { length: int(random, 4) },
        () => ({ id: `p${int(random, 9)}`, vector: vector() }),
      ),
    }),
    () => ({ vector: vector(), k: randomScalar(random), ef: randomScalar(random) }),
    () => ({
      vector: vector(),
      k: 3,
      filter: {
        must: [{ key: randomScalar(random), match: randomJson(random, 2) }],
        must_not: randomJson(random, 2),
      },
    }),
    () => ({
      vector: vector(),
      k: 2,
      filter: { must: [{ key: "n", range: randomJson(random, 2) }] },
    }),
    () => ({
      name: randomScalar(random),
      dimension: randomScalar(random),
      metric: randomScalar(random),
    }),
    () => ({
      name: `f${int(random, 1e6)}`,
      dimension: int(random, 5000),
      metric: "l2",
      hnsw: randomJson(random, 2),
    }),
  ];
  const body = pick(random, bodies)();
  if (random() < 0.3) body[pick(random, Object.keys(body))] = randomJson(random, 3);
  return body;
}

function randomBody(random: Random): Uint8Array | string | undefined {
  const kind = random();
  if (kind < 0.1) return undefined;
  if (kind < 0.25) return crypto.getRandomValues(new Uint8Array(int(random, 2048)));
  if (kind < 0.3) return "[".repeat(20_000 + int(random, 20_000));
  if (kind < 0.35) {
    const depth = 1000 + int(random, 5000);
    return `{"id":"deep","vector":[1,2,3,4],"metadata":${'{"a":'.repeat(depth)}1${
      "}".repeat(depth)
    }}`;
  }
  if (kind < 0.4) {
    return JSON.stringify({
      id: "big",
      vector: [1, 2, 3, 4],
      metadata: { pad: "x".repeat(MAX_BODY_BYTES) },
    });
  }
  if (kind < 0.45) return JSON.stringify(randomJson(random, 6)).slice(0, int(random, 200));
  if (kind < 0.55) return JSON.stringify(randomJson(random, 6));
  return JSON.stringify(mutatedBody(random));
}

/** Routes and the method each one takes; most requests use it, some a wrong one. */
function randomTarget(random: Random): [string, string] {
  const c = random() < 0.6 ? "fuzz" : pick(random, COLLECTION_REFS);
  const id = pick(random, POINT_IDS);
  return pick(
    random,
    [
      ["POST", `/api/v1/collections`],
      ["GET", `/api/v1/collections/${c}`],
      ["POST", `/api/v1/collections/${c}/vectors`],
      ["POST", `/api/v1/collections/${c}/vectors`],
      ["GET", `/api/v1/collections/${c}/vectors/${id}`],
      ["DELETE", `/api/v1/collections/${c}/vectors/${id}`],
      ["POST", `/api/v1/collections/${c}/search`],
      ["POST", `/api/v1/collections/${c}/search`],
      ["GET", `/api/v1/../../etc/passwd`],
      ["GET", `/health?x=${c}`],
      ["GET", `/${c}`],
    ] as const,
  );
}

function randomRequest(random: Random): FuzzRequest {
  const [routeMethod, path] = randomTarget(random);
  const headers: Record<string, string> = {};
  if (random() < 0.7) {
    headers["content-type"] = pick(random, [
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]);
  }
  if (random() < 0.1) {
    headers.authorization = pick(random, [
      "Bearer",
      "Bearer ",
      "Basic x",
      "Bearer " + "k".repeat(5000),
    ]);
  }
  const method = random() < 0.85
    ? routeMethod
    : pick(random, ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]);
  const body = method === "GET" || method === "HEAD" ? undefined : randomBody(random);
  return { method, path, headers, body };
}

function toInit(request: FuzzRequest): RequestInit {
  const headers = { ...request.headers };
  return request.body === undefined
    ? { method: request.method, headers }
    : { method: request.method, headers, body: request.body as BodyInit };
}

function describe(request: FuzzRequest): string {
  const body = request.body === undefined
    ? "(none)"
    : typeof request.body === "string"
    ? request.body.slice(0, 300)
    : `${request.body.byteLength} random bytes`;
  return `${request.method} ${request.path.slice(0, 200)} ${
    JSON.stringify(request.headers).slice(0, 200)
  } ${body}`;
}

Deno.test("fuzz: 3000 malformed requests in process never get a 5xx", async () => {
  const seed = testSeed("api fuzz in process");
  const random = seededRandom(seed);
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-fuzz-" });
  const loaded = loadConfig(["--data-dir", dataDir], {});
  const config: Config = {
    ...loaded,
    server: { ...loaded.server, maxBodyBytes: MAX_BODY_BYTES, maxBatchPoints: 3 },
  };
  const errors: string[] = [];
  const logger = createLogger({ level: "error", sink: (line) => errors.push(line) });
  const engine = await createEngine({ config, kernel: await loadKernel(), logger });
  const app = createApp({ engine, config, logger, version: "fuzz" });
  try {
    await engine.createCollection({ name: "fuzz", dimension: DIMENSION, metric: "cosine" });
    const statuses = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const request = randomRequest(random);
      if (!engine.listCollections().some((c) => c.name === "fuzz")) {
        await engine.createCollection({ name: "fuzz", dimension: DIMENSION, metric: "cosine" });
      }
      let url = `http://localhost${request.path}`;
      try {
        new URL(url);
      } catch {
        url = "http://localhost/api/v1/collections/x";
      }
      const response = await app.request(url, toInit(request));
      await response.body?.cancel();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      assert.ok(
        response.status < 500,
        `SEED=${seed} request #${i} got ${response.status}: ${describe(request)}\n${
          errors.join("")
        }`,
      );
    }
    console.log(`statuses: ${JSON.stringify([...statuses].sort())}`);
    const health = await app.request("/health");
    assert.equal(health.status, 200);
    for (const status of [200, 400, 404, 413, 422]) {
      assert.ok(
        (statuses.get(status) ?? 0) > 0,
        `no ${status} in ${JSON.stringify([...statuses])}`,
      );
    }
  } finally {
    await engine.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("fuzz: 500 malformed requests over a socket never get a 5xx; /health still answers", async () => {
  const seed = testSeed("api fuzz over a socket");
  const random = seededRandom(seed);
  const server = await startServer({ env: { AKIDB_MAX_BODY_BYTES: String(1024 * 1024) } });
  try {
    const created = await fetch(`${server.baseUrl}/api/v1/collections`, {
      method: "POST",
      body: JSON.stringify({ name: "fuzz", dimension: DIMENSION, metric: "cosine" }),
    });
    assert.equal(created.status, 201);
    await created.body?.cancel();
    for (let i = 0; i < 500; i++) {
      const request = randomRequest(random);
      let response: Response;
      try {
        response = await fetch(`${server.baseUrl}${request.path}`, toInit(request));
      } catch (error) {
        // The client refused to send it (e.g. an invalid header value): not the server's answer.
        if (error instanceof TypeError && !/connection|reset|refused/i.test(error.message)) {
          continue;
        }
        throw new Error(`SEED=${seed} request #${i} failed: ${describe(request)}`, {
          cause: error,
        });
      }
      await response.body?.cancel();
      assert.ok(
        response.status < 500,
        `SEED=${seed} request #${i} got ${response.status}: ${describe(request)}\n${server.log()}`,
      );
    }
    // An oversized body streamed to the real socket is refused with 413.
    const huge = await fetch(`${server.baseUrl}/api/v1/collections/fuzz/vectors`, {
      method: "POST",
      body: "x".repeat(2 * 1024 * 1024),
    });
    assert.equal(huge.status, 413);
    await huge.body?.cancel();
    const health = await fetch(`${server.baseUrl}/health`);
    assert.equal(health.status, 200);
    assert.ok((await health.text()).includes("ok"));
  } finally {
    const { status } = await server.stop();
    assert.equal(status.code, 0, server.log());
  }
});
