/**
 * Traces end to end: a small OTLP/HTTP receiver on 127.0.0.1 (JSON, so the
 * test can read it), the real server started with `OTEL_DENO=true` and
 * `[tracing] enabled = true`, requests, then the spans, their parent/child
 * nesting and the sampling are checked.
 *
 * 1. Deno keeps every trace (`OTEL_TRACES_SAMPLER=always_on`) while
 *    `tracing.sample_ratio` says 0.5: AkiDB follows Deno's decision, so every
 *    request is traced in full, and the server warns about the mismatch.
 * 2. `parentbased_traceidratio` at 0.25: of 200 searches about a quarter are
 *    traced, each one whole (Deno's server span, AkiDB's request span,
 *    `akidb.search`), no AkiDB span exists outside them, and an upstream
 *    `traceparent` decides: sampled → traced, unsampled → not a single span.
 */
import assert from "node:assert/strict";
import { seededRandom, testSeed } from "./support/seeded_random.ts";
import { type ServerProcess, startServer } from "./support/server_process.ts";

interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: readonly { key: string; value: Record<string, unknown> }[];
  readonly scope: string;
}

interface Receiver extends AsyncDisposable {
  readonly endpoint: string;
  readonly spans: OtlpSpan[];
}

function startReceiver(): Receiver {
  const spans: OtlpSpan[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.text();
    if (new URL(request.url).pathname === "/v1/traces") {
      const payload = JSON.parse(body);
      for (const resource of payload.resourceSpans ?? []) {
        for (const scoped of resource.scopeSpans ?? []) {
          for (const span of scoped.spans ?? []) spans.push({ ...span, scope: scoped.scope.name });
        }
      }
    }
    return Response.json({});
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    spans,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
}

async function post(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<number> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  await response.body?.cancel();
  return response.status;
}

/** Starts the server with tracing on, `sampleRatio` in its config and Deno's sampler from `sampler`. */
async function startTracedServer(
  receiver: Receiver,
  sampleRatio: number,
  sampler: Record<string, string>,
): Promise<{ server: ServerProcess; configDir: string }> {
  const configDir = await Deno.makeTempDir({ prefix: "akidb-tracing-" });
  const configFile = `${configDir}/akidb.toml`;
  await Deno.writeTextFile(
    configFile,
    `[tracing]\nenabled = true\nsample_ratio = ${sampleRatio}\n`,
  );
  const server = await startServer({
    flags: ["--config", configFile],
    env: {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "akidb",
      AKIDB_LOG_LEVEL: "warn",
      ...sampler,
    },
  });
  return { server, configDir };
}

/** Stops the server (Deno flushes its exporter on exit) and checks it exited cleanly. */
/** Creates collection "t" (3-d, l2) holding points "a" and "b". */
async function createSmallCollection(base: string): Promise<void> {
  assert.equal(
    await post(base, "/api/v1/collections", { name: "t", dimension: 3, metric: "l2" }),
    201,
  );
  const vectors = [{ id: "a", vector: [1, 2, 3] }, { id: "b", vector: [3, 2, 1] }];
  assert.equal(await post(base, "/api/v1/collections/t/vectors", { vectors }), 200);
}

async function stopTracedServer(server: ServerProcess, configDir: string): Promise<void> {
  const { status } = await server.stop();
  await Deno.remove(configDir, { recursive: true });
  assert.equal(status.code, 0, server.log());
}

/** Waits until a span named `name` has arrived (the exporter flushes on exit, asynchronously). */
async function waitForSpan(receiver: Receiver, name: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (
    !receiver.spans.some((span) => span.name === name) && performance.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A random W3C trace id (32 hex digits, not all zero). */
function traceIdFrom(random: () => number): string {
  let id = "";
  while (id.length < 32) id += Math.floor(random() * 0x1_0000).toString(16).padStart(4, "0");
  return id === "0".repeat(32) ? traceIdFrom(random) : id;
}

const SEARCH_ROUTE = "POST /api/v1/collections/:c/search";
const UPSTREAM_SPAN_ID = "00f067aa0ba902b7";

Deno.test({
  name: "obs: spans reach an OTLP receiver, nested under Deno's server span",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using receiver = startReceiver();
    // The config says 0.5, Deno keeps every trace: AkiDB follows Deno, so all requests are traced.
    const { server, configDir } = await startTracedServer(receiver, 0.5, {
      OTEL_TRACES_SAMPLER: "always_on",
    });
    try {
      const base = server.baseUrl;
      await createSmallCollection(base);
      assert.equal(
        await post(base, "/api/v1/collections/t/search", { vector: [1, 2, 3], k: 2, ef: 32 }),
        200,
      );
      assert.equal(await post(base, "/api/v1/collections/t/snapshots", {}), 201);
    } finally {
      await stopTracedServer(server, configDir);
    }
    assert.match(server.log(), /Deno samples every trace, tracing\.sample_ratio is 0\.5/);
    await waitForSpan(receiver, "akidb.snapshot.create");
    const byName = (name: string) => receiver.spans.find((span) => span.name === name);
    const byId = new Map(receiver.spans.map((span) => [span.spanId, span]));
    const parentOf = (span: OtlpSpan) => byId.get(span.parentSpanId ?? "");
    const names = receiver.spans.map((s) => s.name).join(", ");

    // search: akidb.search ⊂ AkiDB's request span ⊂ Deno's server span, one trace
    const search = byName("akidb.search");
    assert.ok(search !== undefined, `no akidb.search span among: ${names}`);
    assert.equal(attribute(search, "akidb.collection"), "t");
    assert.equal(Number(attribute(search, "akidb.k")), 2);
    assert.equal(Number(attribute(search, "akidb.ef")), 32);
    assert.equal(Number(attribute(search, "akidb.result_count")), 2);
    assert.equal(attribute(search, "akidb.tier"), "hot");
    const request = parentOf(search);
    assert.equal(request?.name, SEARCH_ROUTE);
    assert.equal(request?.scope, "akidb");
    assert.equal(String(attribute(request!, "http.response.status_code")), "200");
    const server_ = parentOf(request!);
    assert.equal(server_?.scope, "deno", "the request span's parent is Deno.serve's span");
    assert.equal(server_?.kind, 2 /* SERVER */);
    assert.equal(server_?.name, SEARCH_ROUTE, "server span named by route");
    assert.equal(attribute(server_!, "http.route"), "/api/v1/collections/:c/search");
    assert.equal(new Set([search.traceId, request!.traceId, server_!.traceId]).size, 1);

    // upsert: akidb.upsert ⊂ request span, with the points and bytes; the WAL commit in the trace
    const upsert = byName("akidb.upsert");
    assert.ok(upsert !== undefined, `no akidb.upsert span among: ${names}`);
    assert.equal(Number(attribute(upsert, "akidb.points")), 2);
    assert.equal(Number(attribute(upsert, "akidb.bytes")), 2 * 3 * 4);
    assert.equal(parentOf(upsert)?.name, "POST /api/v1/collections/:c/vectors");
    const commit = byName("akidb.wal.group_commit");
    assert.ok(commit !== undefined, `no akidb.wal.group_commit span among: ${names}`);
    assert.equal(commit.traceId, upsert.traceId, "the group commit belongs to the upsert's trace");

    // snapshot: akidb.snapshot.create ⊂ request span, with its id and size
    const snapshot = byName("akidb.snapshot.create")!;
    assert.ok(snapshot !== undefined, `no akidb.snapshot.create span among: ${names}`);
    assert.equal(parentOf(snapshot)?.name, "POST /api/v1/collections/:c/snapshots");
    assert.match(String(attribute(snapshot, "akidb.snapshot_id")), /^\d{20}-[0-9a-f]{8}$/);
    assert.ok(Number(attribute(snapshot, "akidb.bytes")) > 0);
  },
});

Deno.test({
  name: "obs: Deno's parentbased_traceidratio sampler decides; sampled traces are whole",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const random = seededRandom(testSeed("obs sampling"));
    const ratio = 0.25;
    const roots = 200;
    const upstream = 20;
    const sampledUpstream = Array.from({ length: upstream }, () => traceIdFrom(random));
    const unsampledUpstream = Array.from({ length: upstream }, () => traceIdFrom(random));
    await using receiver = startReceiver();
    const { server, configDir } = await startTracedServer(receiver, ratio, {
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: String(ratio),
      OTEL_DENO_METRICS: "false", // as docs/OBSERVABILITY.md recommends
    });
    try {
      const base = server.baseUrl;
      await createSmallCollection(base);
      const search = (headers?: Record<string, string>) =>
        post(base, "/api/v1/collections/t/search", { vector: [1, 2, 3], k: 2 }, headers);
      for (let i = 0; i < roots; i++) assert.equal(await search(), 200);
      for (const [ids, flags] of [[sampledUpstream, "01"], [unsampledUpstream, "00"]] as const) {
        for (const id of ids) {
          assert.equal(await search({ traceparent: `00-${id}-${UPSTREAM_SPAN_ID}-${flags}` }), 200);
        }
      }
    } finally {
      await stopTracedServer(server, configDir);
    }
    assert.doesNotMatch(server.log(), /Deno samples/, "Deno's sampling matches sample_ratio");
    await waitForSpan(receiver, "akidb.search");

    const traces = Map.groupBy(receiver.spans, (span) => span.traceId);
    const upstreamIds = new Set([...sampledUpstream, ...unsampledUpstream]);
    const isSearchTrace = (spans: readonly OtlpSpan[]) =>
      spans.some((span) => span.scope === "deno" && span.kind === 2 && span.name === SEARCH_ROUTE);

    // Every exported trace is whole: AkiDB spans only under a sampled Deno server span.
    for (const [traceId, spans] of traces) {
      const names = spans.map((span) => `${span.scope}:${span.name}`).join(", ");
      const server = spans.find((span) => span.scope === "deno" && span.kind === 2);
      assert.ok(
        server !== undefined,
        `trace ${traceId} has AkiDB spans but no server span: ${names}`,
      );
      const request = spans.find((span) => span.scope === "akidb" && span.name === server.name);
      assert.equal(request?.parentSpanId, server.spanId, `trace ${traceId}: ${names}`);
      if (server.name === SEARCH_ROUTE) {
        const search = spans.find((span) => span.name === "akidb.search");
        assert.equal(search?.parentSpanId, request!.spanId, `trace ${traceId}: ${names}`);
      }
    }

    // An upstream decision wins: sampled → traced with the remote parent, unsampled → nothing.
    for (const id of sampledUpstream) {
      const spans = traces.get(id) ?? [];
      assert.ok(isSearchTrace(spans), `upstream-sampled trace ${id} was not exported`);
      const server = spans.find((span) => span.scope === "deno" && span.kind === 2)!;
      assert.equal(server.parentSpanId, UPSTREAM_SPAN_ID);
    }
    for (const id of unsampledUpstream) {
      assert.equal(traces.get(id)?.length ?? 0, 0, `upstream-unsampled trace ${id} was exported`);
    }

    // About `ratio` of the requests without a traceparent: 50 expected, sd ≈ 6.1; a 4.9 sd band.
    const rootSearches = [...traces].filter(([id, spans]) =>
      !upstreamIds.has(id) && isSearchTrace(spans)
    ).length;
    assert.ok(
      rootSearches >= 20 && rootSearches <= 80,
      `${rootSearches} of ${roots} searches traced at ratio ${ratio}, expected ≈ ${roots * ratio}`,
    );
  },
});
