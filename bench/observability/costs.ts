/**
 * The observability benchmark's finer measurements, where the child-process
 * figures are too noisy on a shared machine: the same app variants in
 * process ({@linkcode inProcess}), the cost AkiDB's pieces add per call
 * ({@linkcode componentCosts}), and Deno's own per-request tracing work on a
 * bare `Deno.serve` ({@linkcode denoServeCosts}).
 *
 * @module
 */

import { Hono } from "hono";
import { createApp } from "../../src/api/mod.ts";
import { httpMetrics } from "../../src/api/metrics_middleware.ts";
import { engineMetricsSource, instrumentEngine } from "../../src/engine/instrumented_engine.ts";
import { createMetrics } from "../../src/obs/metrics.ts";
import { configureTracing } from "../../src/obs/tracing.ts";
import { round3 } from "../lib/latency.ts";
import { startOtlpSink } from "../lib/otlp_sink.ts";
import { median } from "./median.ts";
import { loadBenchCollection, openTempEngine } from "./temp_engine.ts";
import {
  type Child,
  cpuPerRequest,
  type InProcessVariant,
  otelEnv,
  SAMPLE_RATIO,
  type Settings,
  spawnChild,
  VARIANTS,
  waitIndexed,
} from "./variants.ts";

/** Searches per variant per in-process round. */
const IN_PROCESS_REQUESTS = 500;
/** Interleaved batches per component, and calls per batch. */
const COMPONENT_ROUNDS = 40;
const COMPONENT_CALLS = 2000;

/**
 * Per-request time of the three app variants over one engine, in process:
 * `app.request` (no sockets), interleaved rounds of 500 searches, tracing
 * without an exporter.
 *
 * @param settings The collection.
 * @param queries Search request bodies, used in turn.
 * @param rounds Rounds per variant.
 * @returns Fastest and median round per variant and the overheads they give.
 */
export async function inProcess(settings: Settings, queries: readonly string[], rounds: number) {
  const opened = await openTempEngine("akidb-obs-bench-inproc-");
  const { engine: real, config, logger } = opened;
  await loadBenchCollection(real, settings);
  await waitIndexed(Deno.pid, "the in-process engine");
  const apps = VARIANTS.map((variant) => {
    const metrics = variant === "off" ? undefined : createMetrics();
    if (metrics !== undefined) metrics.bindSource(engineMetricsSource(real, config));
    const engine = metrics === undefined ? real : instrumentEngine(real, metrics);
    const app = createApp({ engine, config, logger, version: "bench", metrics });
    return { variant, tracing: variant === "metrics+tracing", app };
  });
  const perRequestUs: Record<InProcessVariant, number[]> = {
    "off": [],
    "metrics": [],
    "metrics+tracing": [],
  };
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < apps.length; i++) {
      const { variant, tracing, app } = apps[(round + i) % apps.length]!;
      configureTracing({ enabled: tracing, sampleRatio: SAMPLE_RATIO });
      const startMs = performance.now();
      for (let r = 0; r < IN_PROCESS_REQUESTS; r++) {
        const response = await app.request("/api/v1/collections/bench/search", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: queries[(round * IN_PROCESS_REQUESTS + r) % queries.length]!,
        });
        if (response.status !== 200) throw new Error(`search answered ${response.status}`);
        await response.arrayBuffer();
      }
      perRequestUs[variant].push(((performance.now() - startMs) * 1000) / IN_PROCESS_REQUESTS);
    }
  }
  configureTracing({ enabled: false, sampleRatio: 0 });
  await opened.close();
  return inProcessSummary(perRequestUs, rounds);
}

/** The results entry of {@linkcode inProcess}. */
function inProcessSummary(perRequestUs: Record<InProcessVariant, number[]>, rounds: number) {
  const best = (variant: InProcessVariant) => round3(Math.min(...perRequestUs[variant]));
  const med = (variant: InProcessVariant) => round3(median(perRequestUs[variant]));
  const percent = (a: number, b: number) => round3((a / b - 1) * 100);
  return {
    method: "app.request in process, one engine, interleaved rounds of 500 searches; " +
      "tracing without an exporter (OTel export cost is in the child-process figures)",
    rounds,
    fastest_round_us_per_request: Object.fromEntries(VARIANTS.map((v) => [v, best(v)])),
    median_round_us_per_request: Object.fromEntries(VARIANTS.map((v) => [v, med(v)])),
    overhead_percent_fastest: {
      metrics: percent(best("metrics"), best("off")),
      "metrics+tracing": percent(best("metrics+tracing"), best("off")),
    },
    overhead_percent_median: {
      metrics: percent(med("metrics"), med("off")),
      "metrics+tracing": percent(med("metrics+tracing"), med("off")),
    },
  };
}

/**
 * The cost each piece adds, measured tightly: `engine.search` bare vs through
 * `instrumentEngine`, and a Hono route bare vs behind `httpMetrics`, on a tiny
 * collection so the added microseconds are not drowned by the search itself;
 * fastest of 40 interleaved batches of 2000 calls, with tracing off and on.
 *
 * @returns Per tracing setting: fastest µs per call of each piece, and the sum added per request.
 */
export async function componentCosts() {
  const opened = await openTempEngine("akidb-obs-bench-parts-");
  const real = opened.engine;
  await real.createCollection({ name: "tiny", dimension: 8, metric: "l2" });
  await real.upsert(
    "tiny",
    Array.from({ length: 100 }, (_, i) => ({ id: i, vector: new Float32Array(8).fill(i) })),
  );
  const metrics = createMetrics();
  const instrumented = instrumentEngine(real, metrics);
  const query = { vector: new Float32Array(8).fill(3), k: 5 };
  const bare = new Hono();
  bare.post("/api/v1/collections/:c/search", (c) => c.text("ok"));
  const measured = new Hono();
  measured.use(httpMetrics(metrics));
  measured.post("/api/v1/collections/:c/search", (c) => c.text("ok"));
  const route = "/api/v1/collections/tiny/search";
  const ops: Record<string, () => Promise<unknown>> = {
    engine_search: () => real.search("tiny", query),
    instrumented_search: () => instrumented.search("tiny", query),
    hono_route: async () => await (await bare.request(route, { method: "POST" })).text(),
    hono_route_with_http_metrics: async () =>
      await (await measured.request(route, { method: "POST" })).text(),
  };
  const results: Record<string, Record<string, number>> = {};
  for (const tracing of [false, true]) {
    configureTracing({ enabled: tracing, sampleRatio: SAMPLE_RATIO });
    const best = await fastestPerCall(ops);
    const added = (best.instrumented_search! - best.engine_search!) +
      (best.hono_route_with_http_metrics! - best.hono_route!);
    results[tracing ? "metrics+tracing" : "metrics"] = {
      ...Object.fromEntries(Object.entries(best).map(([k, v]) => [`${k}_us`, round3(v)])),
      added_us_per_search_request: round3(added),
    };
  }
  configureTracing({ enabled: false, sampleRatio: 0 });
  await opened.close();
  return results;
}

/** Fastest µs per call of each op over interleaved batches. */
async function fastestPerCall(
  ops: Record<string, () => Promise<unknown>>,
): Promise<Record<string, number>> {
  const best: Record<string, number> = {};
  for (let round = 0; round < COMPONENT_ROUNDS; round++) {
    for (const [name, op] of Object.entries(ops)) {
      const startMs = performance.now();
      for (let i = 0; i < COMPONENT_CALLS; i++) await op();
      best[name] = Math.min(
        best[name] ?? Infinity,
        ((performance.now() - startMs) * 1000) / COMPONENT_CALLS,
      );
    }
  }
  return best;
}

/**
 * What Deno's tracing costs per request by itself: server CPU µs per request
 * of the echo child with OpenTelemetry off, at 1 % (with and without Deno's
 * own OTel metrics) and at `always_on`; interleaved 1 s rounds, the fastest
 * and the median round per probe.
 *
 * @param settings Passed to the echo children (which ignore the collection).
 * @param rounds Rounds per probe.
 * @returns CPU µs per request per probe, and what each adds over "otel_off".
 */
export async function denoServeCosts(settings: Settings, rounds: number) {
  const sink = startOtlpSink();
  const sampled = otelEnv("metrics+tracing", sink.endpoint);
  const probes: Record<string, Record<string, string>> = {
    "otel_off": {},
    "tracing_1_percent": sampled,
    "tracing_1_percent_with_deno_metrics": { ...sampled, OTEL_DENO_METRICS: "true" },
    "tracing_always_on": otelEnv("metrics+tracing_always_on", sink.endpoint),
  };
  const names = Object.keys(probes);
  const children: Child[] = [];
  try {
    for (const env of Object.values(probes)) {
      children.push(await spawnChild("off", settings, undefined, { env }));
    }
    const cpu = names.map(() => [] as number[]);
    const get = (target: Child) => async () => {
      const response = await fetch(`${target.baseUrl}/`);
      await response.arrayBuffer();
    };
    for (const target of children) await cpuPerRequest(target, 4, 1, get(target)); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < children.length; i++) {
        const index = (round + i) % children.length;
        const target = children[index]!;
        cpu[index]!.push(await cpuPerRequest(target, 4, 1, get(target)));
      }
    }
    const fastest = names.map((_, i) => round3(Math.min(...cpu[i]!)));
    const med = names.map((_, i) => round3(median(cpu[i]!)));
    const byName = (values: number[]) => Object.fromEntries(names.map((n, i) => [n, values[i]!]));
    const added = (values: number[]) =>
      Object.fromEntries(names.slice(1).map((n, i) => [n, round3(values[i + 1]! - values[0]!)]));
    return {
      method: "bare Deno.serve, handler `(request) => new Response(request.method)`; " +
        "4 closed-loop clients; server CPU µs per request; interleaved 1 s rounds",
      rounds,
      probes_env: Object.fromEntries(
        Object.entries(probes).map(([n, { OTEL_EXPORTER_OTLP_ENDPOINT: _, ...env }]) => [n, env]),
      ),
      fastest_round_cpu_us_per_request: byName(fastest),
      median_round_cpu_us_per_request: byName(med),
      added_us_per_request_fastest: added(fastest),
      added_us_per_request_median: added(med),
    };
  } finally {
    for (const child of children) await child.stop();
    await sink.shutdown();
  }
}
