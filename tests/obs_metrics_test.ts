import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createApp, createDeferredEngine } from "../src/api/mod.ts";
import { loadConfig } from "../src/config/mod.ts";
import { engineMetricsSource, instrumentEngine } from "../src/engine/instrumented_engine.ts";
import { createEngine } from "../src/engine/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import { createLogger } from "../src/obs/logger.ts";
import { createMetrics } from "../src/obs/metrics.ts";
import {
  objectStoreObserver,
  snapshotObserver,
  tierObserver,
  walObserver,
} from "../src/obs/observers.ts";

/** The metric names of DESIGN.md ("Metrics"); dashboards and alerts rely on exactly these. */
export const DESIGN_METRICS: readonly string[] = [
  "akidb_http_requests_total",
  "akidb_http_request_duration_seconds",
  "akidb_vector_search_duration_seconds",
  "akidb_vector_upserts_total",
  "akidb_wal_append_duration_seconds",
  "akidb_wal_fsync_duration_seconds",
  "akidb_wal_size_bytes",
  "akidb_snapshot_duration_seconds",
  "akidb_s3_operations_total",
  "akidb_s3_operation_duration_seconds",
  "akidb_circuit_breaker_state",
  "akidb_dlq_size",
  "akidb_collection_tier",
  "akidb_tier_transitions_total",
  "akidb_collection_vectors",
  "akidb_memory_bytes",
];

const KEY = "m".repeat(16) + "-metrics";
const kernel = await loadKernel();

interface Harness extends AsyncDisposable {
  readonly app: Hono;
  readonly metrics: ReturnType<typeof createMetrics>;
}

/** The app over a real engine on a temporary directory, wired as `src/main.ts` wires it. */
async function harness(env: Record<string, string> = {}): Promise<Harness> {
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-obs-test-" });
  const config = loadConfig(["--data-dir", dataDir], env);
  const logger = createLogger({ level: "error", sink: () => {} });
  const metrics = createMetrics();
  const real = await createEngine({
    config,
    kernel,
    logger,
    walObserver: walObserver(metrics),
    snapshotObserver: snapshotObserver(metrics),
  });
  metrics.bindSource(engineMetricsSource(real, config));
  const deferred = createDeferredEngine();
  deferred.resolve(real);
  const engine = instrumentEngine(deferred.engine, metrics);
  const app = createApp({ engine, config, logger, version: "0.0.0-test", metrics });
  return {
    app,
    metrics,
    async [Symbol.asyncDispose]() {
      await real.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

function post(app: Hono, path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Metric names that have at least one sample line (not just HELP/TYPE). */
function sampledNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? "";
    names.add(name.replace(/_(bucket|sum|count)$/, ""));
  }
  return names;
}

async function trafficOn(app: Hono): Promise<void> {
  assert.equal(
    (await post(app, "/api/v1/collections", { name: "docs", dimension: 4, metric: "cosine" }))
      .status,
    201,
  );
  const vectors = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, vector: [1, i, 2, 3] }));
  assert.equal((await post(app, "/api/v1/collections/docs/vectors", { vectors })).status, 200);
  const search = await post(app, "/api/v1/collections/docs/search", { vector: [1, 2, 3, 4], k: 3 });
  assert.equal(search.status, 200);
  assert.equal((await post(app, "/api/v1/collections/docs/snapshots", {})).status, 201);
  const restore = await post(app, "/api/v1/admin/collections/docs/restore", {
    snapshot_id: "latest",
  });
  assert.equal(restore.status, 200);
}

Deno.test("obs: every DESIGN.md metric is exported with samples after some traffic", async () => {
  await using h = await harness();
  await trafficOn(h.app);
  const response = await h.app.request("/metrics");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const names = sampledNames(text);
  const missing = DESIGN_METRICS.filter((name) => !names.has(name));
  assert.deepEqual(missing, [], `metrics without samples: ${missing.join(", ")}`);
  // default process metrics
  assert.ok(names.has("process_cpu_user_seconds_total"), "default process metrics missing");
  assert.match(text, /akidb_vector_upserts_total 20\n/);
  assert.match(text, /akidb_collection_vectors\{collection="docs"\} 20\n/);
  assert.match(text, /akidb_index_pending_points\{collection="docs"\} \d+\n/);
  assert.match(text, /akidb_index_tombstones\{collection="docs"\} 0\n/);
  assert.match(text, /akidb_collection_tier\{collection="docs",tier="hot"\} 1\n/);
  assert.match(text, /akidb_collection_tier\{collection="docs",tier="cold"\} 0\n/);
  assert.match(text, /akidb_vector_search_duration_seconds_count\{tier="hot"\} 1\n/);
  assert.match(text, /akidb_snapshot_duration_seconds_count\{operation="create"\} 1\n/);
  assert.match(text, /akidb_snapshot_duration_seconds_count\{operation="restore"\} 1\n/);
  assert.match(text, /akidb_wal_fsync_duration_seconds_count [1-9]/);
  assert.match(text, /akidb_memory_bytes\{component="wasm"\} [1-9]/);
  assert.match(text, /akidb_memory_bytes\{component="rss"\} [1-9]/);
  assert.match(text, /akidb_disk_free_bytes [1-9]/);
  assert.match(text, /akidb_wal_size_bytes [1-9]/);
  assert.match(
    text,
    /akidb_http_requests_total\{method="POST",route="\/api\/v1\/collections\/:c\/search",status="200"\} 1\n/,
  );
});

Deno.test("obs: route labels are patterns: 1000 ids give one label, unknown paths one", async () => {
  await using h = await harness();
  await trafficOn(h.app);
  for (let i = 0; i < 1000; i++) {
    const response = await h.app.request(`/api/v1/collections/docs/vectors/id-${i}`);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  }
  for (let i = 0; i < 50; i++) await (await h.app.request(`/no/such/path/${i}`)).body?.cancel();
  const text = await (await h.app.request("/metrics")).text();
  const routes = new Set(
    [...text.matchAll(/^akidb_http_requests_total\{[^}]*route="([^"]*)"/gm)].map((m) => m[1]),
  );
  assert.deepEqual([...routes].sort(), [
    "/api/v1/admin/collections/:c/restore",
    "/api/v1/collections",
    "/api/v1/collections/:c/search",
    "/api/v1/collections/:c/snapshots",
    "/api/v1/collections/:c/vectors",
    "/api/v1/collections/:c/vectors/:id",
    "unmatched",
  ]);
  assert.match(
    text,
    /akidb_http_requests_total\{method="GET",route="\/api\/v1\/collections\/:c\/vectors\/:id",status="404"\} 1000\n/,
  );
  assert.match(
    text,
    /akidb_http_requests_total\{method="GET",route="unmatched",status="404"\} 50\n/,
  );
  assert.ok(!text.includes("id-1"), "a raw id leaked into a label");
});

Deno.test("obs: /metrics needs an API key unless metrics.public is set", async () => {
  {
    await using h = await harness({ AKIDB_API_KEYS: KEY });
    assert.equal((await h.app.request("/metrics")).status, 401);
    const ok = await h.app.request("/metrics", { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    // a rejected request is still counted, under its route pattern
    const text = await (await h.app.request("/metrics", { headers: { "api-key": KEY } })).text();
    assert.match(
      text,
      /akidb_http_requests_total\{method="GET",route="\/metrics",status="401"\} 1\n/,
    );
  }
  {
    await using h = await harness({ AKIDB_API_KEYS: KEY, AKIDB_METRICS_PUBLIC: "true" });
    const open = await h.app.request("/metrics");
    assert.equal(open.status, 200);
    await open.body?.cancel();
    assert.equal((await h.app.request("/api/v1/collections")).status, 401);
  }
});

Deno.test("obs: object-store and tier observers feed their metrics", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const store = objectStoreObserver(metrics);
  store.onOperation("put_file", "ok", 0.2);
  store.onOperation("put_file", "error", 1.5);
  store.onBreakerState(2);
  store.onDlqSize(7);
  tierObserver(metrics).onTransition("hot", "warm");
  const text = await metrics.registry.metrics();
  assert.match(text, /akidb_s3_operations_total\{operation="put_file",status="ok"\} 1\n/);
  assert.match(text, /akidb_s3_operations_total\{operation="put_file",status="error"\} 1\n/);
  assert.match(text, /akidb_s3_operation_duration_seconds_count\{operation="put_file"\} 2\n/);
  assert.match(text, /akidb_circuit_breaker_state\{service="s3"\} 2\n/);
  assert.match(text, /akidb_dlq_size 7\n/);
  assert.match(text, /akidb_tier_transitions_total\{from="hot",to="warm"\} 1\n/);
  assert.match(text, /akidb_tier_transitions_total\{from="warm",to="cold"\} 0\n/);
});
