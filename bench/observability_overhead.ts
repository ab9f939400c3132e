/**
 * Observability overhead: HTTP search throughput of the same app with
 * (a) no metrics and no tracing, (b) metrics (the `/metrics` middleware,
 * engine proxy, WAL observer; scraped every second), (c) metrics plus
 * tracing sampled at 1 % (`OTEL_DENO=true`,
 * `OTEL_TRACES_SAMPLER=parentbased_traceidratio`, `OTEL_TRACES_SAMPLER_ARG=0.01`,
 * `OTEL_DENO_METRICS=false`, spans exported over OTLP to a receiver in this
 * process) and, for
 * comparison, (d) the same with Deno's default sampler (`always_on`: Deno
 * exports a server span for every request). Each variant is a child process
 * serving the app built as `src/main.ts` builds it; rounds alternate between
 * the variants so
 * drift on a shared machine hits all of them alike; the median round counts.
 * Two figures per variant: searches per second, and the server's CPU time per
 * search (from `/proc/<pid>/stat`), which other load on a shared machine
 * disturbs far less than throughput. Target: ≤ 2 % overhead with metrics on
 * and tracing at 1 %.
 *
 * On a machine shared with other work neither figure resolves 2 %, so a third
 * measurement runs in this process: the same search requests through
 * `app.request` (no sockets) of three apps over ONE engine, interleaved in
 * short rounds; the fastest and the median round per variant. And the cost
 * of each piece alone: AkiDB's (`componentCosts`) and Deno's own per-request
 * tracing work on a bare `Deno.serve` (`denoServeCosts`), which together
 * give the estimate reported as `estimated_overhead_percent`.
 *
 * Every measurement of a loaded engine starts once it has indexed its vectors
 * (its process's CPU has gone idle): before that, searches run on the exact
 * tail and a child's CPU includes the background indexing.
 *
 * Layout: `observability/variants.ts` (the child processes), `observability/costs.ts`
 * (in process, per component, bare `Deno.serve`), `lib/otlp_sink.ts` (the OTLP receiver).
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/observability_overhead.ts [--vectors 10000]
 *   [--dimension 128] [--clients 8] [--seconds 5] [--rounds 5] [--inproc-rounds 30]
 *   [--echo-rounds 30] [--out bench/results/observability-overhead.json]
 * ```
 *
 * @module
 */

import { round3 } from "./lib/latency.ts";
import { searchBody } from "./lib/akidb_client.ts";
import { type OtlpSink, startOtlpSink } from "./lib/otlp_sink.ts";
import { intFlag, machineInfo, parseFlags, printTable, writeResults } from "./lib/report.ts";
import { seededVectors } from "./lib/vectors.ts";
import { componentCosts, denoServeCosts, inProcess } from "./observability/costs.ts";
import { median } from "./observability/median.ts";
import {
  type Child,
  child,
  CHILD_VARIANTS,
  echoChild,
  isTraced,
  measure,
  otelEnv,
  SAMPLE_RATIO,
  type Settings,
  spawnChild,
  type Variant,
  waitIndexed,
} from "./observability/variants.ts";

const K = 10;
const EF = 64;
const FLAGS = [
  "child",
  "vectors",
  "dimension",
  "clients",
  "seconds",
  "rounds",
  "inproc-rounds",
  "echo-rounds",
  "echo",
  "out",
];

/** Per-variant figures of the child-process rounds, in round order. */
interface ChildRounds {
  readonly qps: Record<Variant, number[]>;
  readonly cpu: Record<Variant, number[]>;
}

async function parent(flags: Map<string, string>): Promise<void> {
  const settings = settingsOf(flags);
  const clients = intFlag(flags, "clients", 8);
  const seconds = intFlag(flags, "seconds", 5);
  const rounds = intFlag(flags, "rounds", 5);
  const out = flags.get("out") ?? "bench/results/observability-overhead.json";
  const queryData = seededVectors(256, settings.dimension, 11);
  const queries = Array.from(
    { length: 256 },
    (_, i) =>
      searchBody(queryData.subarray(i * settings.dimension, (i + 1) * settings.dimension), K, EF),
  );
  const loadAtStart = Number(Deno.loadavg()[0]?.toFixed(2));
  const components = await componentCosts();
  console.log("added per request:", JSON.stringify(components));
  const inProcessResult = await inProcess(settings, queries, intFlag(flags, "inproc-rounds", 30));
  console.log("in process:", JSON.stringify(inProcessResult));
  const denoServe = await denoServeCosts(settings, intFlag(flags, "echo-rounds", 30));
  console.log("Deno.serve alone:", JSON.stringify(denoServe));
  const sinks = new Map(
    CHILD_VARIANTS.filter(isTraced).map((variant) => [variant, startOtlpSink()]),
  );
  const children: Child[] = [];
  try {
    for (const variant of CHILD_VARIANTS) {
      children.push(await spawnChild(variant, settings, sinks.get(variant)?.endpoint));
    }
    for (const target of children) await waitIndexed(target.pid, `the ${target.variant} child`);
    const measured = await childRounds(children, queries, clients, seconds, rounds);
    // Stop the children first: each flushes its exporter on exit, so the sinks' counts are whole.
    for (const child of children.splice(0)) await child.stop();
    const summary = childSummary(measured);
    printTable(
      ["variant", "median search/s", "throughput loss", "server CPU µs/search", "CPU overhead"],
      CHILD_VARIANTS.map((v) => [
        v,
        String(summary.median_qps[v]),
        `${summary.overheadPercent(v)} %`,
        String(summary.median_server_cpu_us_per_search[v]),
        `${summary.cpuOverheadPercent(v)} %`,
      ]),
    );
    await writeResults(
      out,
      resultsOf({
        settings,
        clients,
        seconds,
        rounds,
        measured,
        loadAtStart,
        components,
        denoServe,
        inProcessResult,
        sinks,
      }),
    );
  } finally {
    for (const child of children) await child.stop();
    for (const sink of sinks.values()) await sink.shutdown();
  }
}

/** Everything the results file reports, gathered by {@linkcode parent}. */
interface RunFacts {
  readonly settings: Settings;
  readonly clients: number;
  readonly seconds: number;
  readonly rounds: number;
  readonly measured: ChildRounds;
  readonly loadAtStart: number;
  readonly components: Awaited<ReturnType<typeof componentCosts>>;
  readonly denoServe: Awaited<ReturnType<typeof denoServeCosts>>;
  readonly inProcessResult: Awaited<ReturnType<typeof inProcess>>;
  readonly sinks: ReadonlyMap<Variant, OtlpSink>;
}

/** The results file's object (its keys in the order the file has always had). */
function resultsOf(facts: RunFacts): Record<string, unknown> {
  const { settings, clients, seconds, rounds, measured, components, denoServe, sinks } = facts;
  const summary = childSummary(measured);
  return {
    benchmark: "observability_overhead",
    date: new Date().toISOString(),
    machine: machineInfo(),
    settings: {
      ...settings,
      metric: "l2",
      k: K,
      ef: EF,
      clients,
      seconds_per_round: seconds,
      rounds,
      tracing_sample_ratio: SAMPLE_RATIO,
      otel_env: Object.fromEntries(
        CHILD_VARIANTS.filter(isTraced).map((v) => {
          const { OTEL_EXPORTER_OTLP_ENDPOINT: _, ...env } = otelEnv(v, "");
          return [v, env];
        }),
      ),
      metrics_scrape_interval_s: 1,
      otlp_protocol: "http/protobuf",
    },
    qps_per_round: measured.qps,
    server_cpu_us_per_search_per_round: measured.cpu,
    median_qps: summary.median_qps,
    median_server_cpu_us_per_search: summary.median_server_cpu_us_per_search,
    throughput_loss_percent: summary.throughput_loss_percent,
    server_cpu_overhead_percent: summary.server_cpu_overhead_percent,
    load_average_1m_at_start: facts.loadAtStart,
    component_costs: components,
    deno_serve_tracing_cost: denoServe,
    estimated_overhead_percent: estimatedOverhead(
      components,
      denoServe.added_us_per_request_fastest["tracing_1_percent"]!,
      Math.min(...measured.cpu.off),
    ),
    estimated_overhead_method: "added µs per request (component_costs, fastest batches; " +
      "for tracing plus deno_serve_tracing_cost.added_us_per_request_fastest.tracing_1_percent) / " +
      "the lowest server CPU µs per search request of the 'off' variant",
    in_process: facts.inProcessResult,
    target_percent: 2,
    target_met_by_cpu: summary.cpuOverheadPercent("metrics+tracing") <= 2 &&
      summary.cpuOverheadPercent("metrics") <= 2,
    otlp_export: otlpExport(sinks),
    note: "With OTEL_DENO=true Deno.serve starts a server span for every request; Deno's " +
      "sampler (OTEL_TRACES_SAMPLER) decides whether it is recorded and exported, and AkiDB " +
      "makes its own spans only under a sampled one. 'metrics+tracing' samples 1 % " +
      "(parentbased_traceidratio); 'metrics+tracing_always_on' keeps Deno's " +
      "default always_on, i.e. every request exported, for comparison.",
  };
}

/** The collection flags (parent and child read the same ones). */
function settingsOf(flags: Map<string, string>): Settings {
  return {
    vectors: intFlag(flags, "vectors", 10_000),
    dimension: intFlag(flags, "dimension", 128),
  };
}

/** A 1 s warm-up per child, then `rounds` rounds over all children, rotating the order. */
async function childRounds(
  children: readonly Child[],
  queries: readonly string[],
  clients: number,
  seconds: number,
  rounds: number,
): Promise<ChildRounds> {
  for (const target of children) await measure(target, queries, clients, 1); // warm-up
  const perVariant = () =>
    Object.fromEntries(CHILD_VARIANTS.map((v) => [v, [] as number[]])) as Record<
      Variant,
      number[]
    >;
  const qps = perVariant();
  const cpu = perVariant();
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs first or last.
    for (let i = 0; i < children.length; i++) {
      const target = children[(round + i) % children.length]!;
      const measured = await measure(target, queries, clients, seconds);
      qps[target.variant].push(measured.qps);
      cpu[target.variant].push(measured.cpuUsPerSearch);
    }
    console.log(
      `round ${round + 1}/${rounds}: ${
        CHILD_VARIANTS.map((v) => `${v} ${qps[v].at(-1)}/s ${cpu[v].at(-1)} µs`).join(", ")
      }`,
    );
  }
  return { qps, cpu };
}

/** Medians of the child rounds and each variant's loss against "off". */
function childSummary({ qps, cpu }: ChildRounds) {
  const base = median(qps.off);
  const overheadPercent = (variant: Variant) => round3((1 - median(qps[variant]) / base) * 100);
  const cpuOverheadPercent = (variant: Variant) =>
    round3((median(cpu[variant]) / median(cpu.off) - 1) * 100);
  const perVariant = (variants: readonly Variant[], value: (v: Variant) => number) =>
    Object.fromEntries(variants.map((v) => [v, value(v)])) as Record<Variant, number>;
  return {
    overheadPercent,
    cpuOverheadPercent,
    median_qps: perVariant(CHILD_VARIANTS, (v) => median(qps[v])),
    median_server_cpu_us_per_search: perVariant(CHILD_VARIANTS, (v) => median(cpu[v])),
    throughput_loss_percent: perVariant(CHILD_VARIANTS.slice(1), overheadPercent),
    server_cpu_overhead_percent: perVariant(CHILD_VARIANTS.slice(1), cpuOverheadPercent),
  };
}

/**
 * The estimate: AkiDB's added µs per request (plus Deno's tracing at 1 % for
 * the traced variant) over the lowest "off" CPU µs per search.
 */
function estimatedOverhead(
  components: Record<string, Record<string, number>>,
  denoTracingUs: number,
  lowestOffCpuUs: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(components).map(([variant, c]) => [
      variant,
      round3(
        ((c.added_us_per_search_request! + (variant === "metrics" ? 0 : denoTracingUs)) /
          lowestOffCpuUs) * 100,
      ),
    ]),
  );
}

/** What each traced variant's exporter sent. */
function otlpExport(sinks: ReadonlyMap<Variant, OtlpSink>) {
  return Object.fromEntries(
    [...sinks].map(([v, sink]) => [v, { requests: sink.stats.requests, bytes: sink.stats.bytes }]),
  );
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args, FLAGS);
  const variant = flags.get("child");
  if (variant !== undefined) {
    if (!(CHILD_VARIANTS as readonly string[]).includes(variant)) {
      throw new TypeError(`unknown variant ${variant}`);
    }
    if (flags.has("echo")) await echoChild();
    await child(variant as Variant, settingsOf(flags));
  } else {
    await parent(flags);
  }
}
