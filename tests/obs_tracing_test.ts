/**
 * Traces end to end: a small OTLP/HTTP receiver on 127.0.0.1 (JSON, so the
 * test can read it), the real server started with `OTEL_DENO=true` and
 * `[tracing] enabled = true, sample_ratio = 1`, a few requests, then the
 * spans and their parent/child nesting are checked.
 */
import assert from "node:assert/strict";
import { startServer } from "./support/server_process.ts";

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

async function post(baseUrl: string, path: string, body: unknown): Promise<number> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test({
  name: "obs: spans reach an OTLP receiver, nested under Deno's server span",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using receiver = startReceiver();
    const configDir = await Deno.makeTempDir({ prefix: "akidb-tracing-" });
    const configFile = `${configDir}/akidb.toml`;
    await Deno.writeTextFile(configFile, "[tracing]\nenabled = true\nsample_ratio = 1.0\n");
    const server = await startServer({
      flags: ["--config", configFile],
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "akidb",
        AKIDB_LOG_LEVEL: "warn",
      },
    });
    try {
      const base = server.baseUrl;
      assert.equal(
        await post(base, "/api/v1/collections", { name: "t", dimension: 3, metric: "l2" }),
        201,
      );
      const vectors = [{ id: "a", vector: [1, 2, 3] }, { id: "b", vector: [3, 2, 1] }];
      assert.equal(await post(base, "/api/v1/collections/t/vectors", { vectors }), 200);
      assert.equal(
        await post(base, "/api/v1/collections/t/search", { vector: [1, 2, 3], k: 2, ef: 32 }),
        200,
      );
      assert.equal(await post(base, "/api/v1/collections/t/snapshots", {}), 201);
    } finally {
      const { status } = await server.stop(); // Deno flushes its exporter on exit
      await Deno.remove(configDir, { recursive: true });
      assert.equal(status.code, 0, server.log());
    }
    const deadline = performance.now() + 10_000;
    const byName = (name: string) => receiver.spans.find((span) => span.name === name);
    while (byName("akidb.snapshot.create") === undefined && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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
    assert.equal(request?.name, "POST /api/v1/collections/:c/search");
    assert.equal(request?.scope, "akidb");
    assert.equal(String(attribute(request!, "http.response.status_code")), "200");
    const server_ = parentOf(request!);
    assert.equal(server_?.scope, "deno", "the request span's parent is Deno.serve's span");
    assert.equal(server_?.kind, 2 /* SERVER */);
    assert.equal(server_?.name, "POST /api/v1/collections/:c/search", "server span named by route");
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
