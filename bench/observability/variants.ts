/**
 * The child processes of the observability benchmark: which variants there
 * are, the OpenTelemetry environment Deno gets for each, spawning a child,
 * the child's own entry points (the app server and the bare echo server),
 * and measuring a running child from the parent.
 *
 * Children are spawned by re-running the benchmark's entry script with
 * `--child <variant>`; the entry script calls {@linkcode child} or
 * {@linkcode echoChild}.
 *
 * @module
 */

import { createApp } from "../../src/api/mod.ts";
import { engineMetricsSource, instrumentEngine } from "../../src/engine/instrumented_engine.ts";
import { createMetrics } from "../../src/obs/metrics.ts";
import { walObserver } from "../../src/obs/observers.ts";
import { configureTracing } from "../../src/obs/tracing.ts";
import { round3 } from "../lib/latency.ts";
import { closedLoop } from "../lib/load.ts";
import { cpuSeconds, waitCpuIdle } from "../lib/process_stats.ts";
import { loadBenchCollection, openTempEngine } from "./temp_engine.ts";

/** The script children run: the benchmark's entry point. */
const ENTRY_SCRIPT = new URL("../observability_overhead.ts", import.meta.url).pathname;

/** Longest wait for a process to finish indexing its vectors in the background. */
export const INDEX_WAIT_MS_MAX = 600_000;

/** The variants measured in process too (no exporter there). */
export const VARIANTS = ["off", "metrics", "metrics+tracing"] as const;
/** The child-process variants: (d) keeps Deno's default sampler, which exports every request. */
export const CHILD_VARIANTS = [...VARIANTS, "metrics+tracing_always_on"] as const;
/** One child-process variant. */
export type Variant = typeof CHILD_VARIANTS[number];
/** One in-process variant. */
export type InProcessVariant = typeof VARIANTS[number];
/** Trace sampling ratio of the "metrics+tracing" variant. */
export const SAMPLE_RATIO = 0.01;

/** The collection every variant serves. */
export interface Settings {
  readonly vectors: number;
  readonly dimension: number;
}

/** A running child, as the parent sees it. */
export interface Child {
  readonly variant: Variant;
  readonly pid: number;
  readonly baseUrl: string;
  /** Sends SIGTERM (to this child's pid only) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Whether a variant runs with Deno's tracing on.
 *
 * @param variant The variant.
 * @returns True for the "metrics+tracing…" variants.
 */
export function isTraced(variant: Variant): boolean {
  return variant.startsWith("metrics+tracing");
}

/**
 * Deno's OpenTelemetry environment of a traced child.
 *
 * @param variant "metrics+tracing" samples {@linkcode SAMPLE_RATIO}; the others keep `always_on`.
 * @param otlp The OTLP endpoint.
 * @returns The environment variables.
 */
export function otelEnv(variant: Variant, otlp: string): Record<string, string> {
  return {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    OTEL_SERVICE_NAME: "akidb-bench",
    // AkiDB's metrics are Prometheus'; Deno's own OTel HTTP metrics would only add per-request work.
    OTEL_DENO_METRICS: "false",
    ...(variant === "metrics+tracing"
      ? {
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: String(SAMPLE_RATIO),
      }
      : { OTEL_TRACES_SAMPLER: "always_on" }),
  };
}

/**
 * The child: builds the app for one variant as `src/main.ts` does, loads the
 * vectors, serves on 127.0.0.1, prints its port as a JSON line, and exits
 * cleanly on SIGTERM (so Deno's exporter flushes its last spans).
 *
 * @param variant What to switch on.
 * @param settings The collection to load.
 */
export async function child(variant: Variant, settings: Settings): Promise<void> {
  configureTracing({ enabled: isTraced(variant), sampleRatio: SAMPLE_RATIO });
  const metrics = variant === "off" ? undefined : createMetrics();
  const opened = await openTempEngine(
    "akidb-obs-bench-",
    metrics === undefined ? undefined : walObserver(metrics),
  );
  const { engine: real, config, logger } = opened;
  if (metrics !== undefined) metrics.bindSource(engineMetricsSource(real, config));
  const engine = metrics === undefined ? real : instrumentEngine(real, metrics);
  await loadBenchCollection(engine, settings);
  const app = createApp({ engine, config, logger, version: "bench", metrics });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  console.log(JSON.stringify({ port: server.addr.port }));
  Deno.addSignalListener("SIGTERM", () => void server.shutdown());
  await server.finished;
  await opened.close();
  Deno.exit(0); // Deno's exporter flushes before the exit
}

/**
 * The echo child: a bare `Deno.serve` with a trivial handler, so the few µs
 * Deno's tracing adds to every request (read the headers for `traceparent`,
 * start the span, sampled or not) stand out. The handler takes the request,
 * as AkiDB's does: a zero-argument handler takes a faster path in Deno.
 */
export async function echoChild(): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => new Response(request.method),
  );
  console.log(JSON.stringify({ port: server.addr.port }));
  Deno.addSignalListener("SIGTERM", () => void server.shutdown());
  await server.finished;
  Deno.exit(0);
}

/**
 * Spawns a child running the entry script and waits for its port.
 *
 * @param variant The variant it serves.
 * @param settings The collection it loads.
 * @param otlp OTLP endpoint for a traced variant; undefined for no OpenTelemetry.
 * @param echo For an echo child: its whole environment.
 * @returns The running child.
 * @throws {Error} When the child exits before printing its port.
 */
export async function spawnChild(
  variant: Variant,
  settings: Settings,
  otlp: string | undefined,
  echo?: { readonly env: Record<string, string> },
): Promise<Child> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ENTRY_SCRIPT,
      "--child",
      variant,
      "--vectors",
      String(settings.vectors),
      "--dimension",
      String(settings.dimension),
      ...(echo === undefined ? [] : ["--echo", "1"]),
    ],
    env: echo?.env ?? (otlp === undefined ? {} : otelEnv(variant, otlp)),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Cannot start the ${variant} child: it exited`);
    text += value;
  }
  const { port } = JSON.parse(text.split("\n")[0]!);
  return {
    variant,
    pid: process.pid,
    baseUrl: `http://127.0.0.1:${port}`,
    async stop() {
      process.kill("SIGTERM"); // this child's pid only
      await process.status;
      await reader.cancel().catch(() => {});
    },
  };
}

/**
 * Waits until a process has indexed its vectors: the engine answers searches
 * at once, from an exact tail, while the graph is built in the background, so
 * searches measured before that would cost far more than on the graph (and,
 * in a child, the indexing CPU would count as search CPU).
 *
 * @param pid The process (a child, or `Deno.pid` for the in-process engine).
 * @param label Names the process in the error.
 * @throws {Error} When it is still busy after {@linkcode INDEX_WAIT_MS_MAX}.
 */
export async function waitIndexed(pid: number, label: string): Promise<void> {
  if (await waitCpuIdle(pid, INDEX_WAIT_MS_MAX) < 0) {
    throw new Error(`Cannot measure ${label}: still busy after ${INDEX_WAIT_MS_MAX} ms`);
  }
}

/**
 * Searches per second and server CPU µs per search of one child under
 * `clients` closed-loop clients for `seconds`, scraping `/metrics` every
 * second unless the variant is "off".
 *
 * @param target The child.
 * @param queries Search request bodies, used in turn.
 * @param clients Concurrent clients.
 * @param seconds How long.
 * @returns Throughput and CPU per search.
 * @throws {Error} When any search fails.
 */
export async function measure(
  target: Child,
  queries: readonly string[],
  clients: number,
  seconds: number,
): Promise<{ qps: number; cpuUsPerSearch: number }> {
  let scraping = target.variant !== "off";
  const cpuBefore = await cpuSeconds(target.pid);
  const scraper = (async () => {
    while (scraping) {
      const response = await fetch(`${target.baseUrl}/metrics`);
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  const result = await closedLoop(clients, seconds * 1000, async (index) => {
    const response = await fetch(`${target.baseUrl}/api/v1/collections/bench/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: queries[index % queries.length]!,
    });
    if (response.status !== 200) throw new Error(`search answered ${response.status}`);
    await response.arrayBuffer();
  });
  const cpuAfter = await cpuSeconds(target.pid);
  scraping = false;
  await scraper;
  if (result.errors > 0) throw new Error(`${result.errors} searches failed on ${target.variant}`);
  return {
    qps: result.requestsPerSecond,
    cpuUsPerSearch: round3(((cpuAfter - cpuBefore) * 1e6) / result.requests),
  };
}

/**
 * Server CPU µs per request of `target` under `clients` closed-loop clients for `seconds`.
 *
 * @param target The child.
 * @param clients Concurrent clients.
 * @param seconds How long.
 * @param request Sends one request.
 * @returns CPU µs per request (not rounded).
 * @throws {Error} When any request fails.
 */
export async function cpuPerRequest(
  target: Child,
  clients: number,
  seconds: number,
  request: () => Promise<void>,
): Promise<number> {
  const cpuBefore = await cpuSeconds(target.pid);
  const result = await closedLoop(clients, seconds * 1000, request);
  const cpuAfter = await cpuSeconds(target.pid);
  if (result.errors > 0) throw new Error(`${result.errors} requests failed on ${target.variant}`);
  return ((cpuAfter - cpuBefore) * 1e6) / result.requests;
}
