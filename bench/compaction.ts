/**
 * Background compaction on real data, in process (no HTTP): what tombstones cost a graph and
 * what rebuilding it without them gives back, and what searches see while the rebuild runs.
 *
 * 1. Build: the first `--points` rows of the data set are upserted into a `LiveIndex`
 *    (1,000-point batches through `admit`, as the engine writes) and settled.
 * 2. Churn: `--churn` percent of the ids, picked at random (seeded), are replaced by rows that
 *    come after the first `--points` (so each replacement is a different real vector), with
 *    compaction disabled (`compactTombstoneRatio: 1`): every replacement leaves a tombstone.
 * 3. Compaction: the churned index is captured and restored, graph and tombstones included, into
 *    a `LiveIndex` with the default ratio (the snapshot-restore path); its constructor starts the
 *    rebuild at once (on the graph worker). It runs twice from the same capture: once quiet, once
 *    with a search every `--interval-ms` ms through `setTimeout`. Either way a timer every
 *    `--interval-ms` records its lateness (event-loop delay) and the memory held; with searches,
 *    each search's own duration and recall too.
 * 4. Churn under compaction: the compacted index takes another `--churn` percent of
 *    replacements, with the default ratio, so compaction starts from the write path mid-churn.
 *
 * After each step: recall@10 against exact top-10 over the live points (brute force with the
 * SIMD kernel; tie-aware), the index's WASM memory and graph tombstones. Single-thread QPS is
 * measured in turns over indexes alive together (a copy of the built graph, the churned and the
 * compacted index; later the built copy and the churned-again one): the median of 5 passes over
 * `--queries` queries each, so the shared machine's other load hits them alike.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/compaction.ts [--dataset glove-100-tail]
 *   [--points 100000] [--churn 40] [--ef 256] [--queries 1000] [--interval-ms 5]
 *   [--out bench/results/compaction.json]
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import os from "node:os";
import process from "node:process";
import { LiveIndex, type LiveIndexOptions } from "../src/engine/live_index.ts";
import { BruteForceIndex, HnswIndex } from "../src/index/mod.ts";
import { type Kernel, loadKernel } from "../src/kernel/mod.ts";
import {
  type Dataset,
  datasetDistance,
  readDataset,
  recallAgainst,
  sharedDataPath,
} from "../tests/support/dataset.ts";
import { seededRandom } from "../tests/support/seeded_random.ts";
import { round3, summarize } from "./lib/latency.ts";
import { intFlag, parseFlags, printTable, runAsMain, writeResults } from "./lib/report.ts";

const K = 10;
const BATCH = 1000;
const QPS_ROUNDS = 5;
const WARMUP_QUERIES = 200;
const SEED = 20261122;

/** Command-line synopsis. */
export const USAGE = `usage: deno run -A bench/compaction.ts [--dataset glove-100-tail]
  [--points 100000] [--churn 40] [--ef 256] [--queries 1000] [--interval-ms 5] [--out file.json]`;

const FLAGS = ["dataset", "points", "churn", "ef", "queries", "interval-ms", "out"];

/** Which data-set row each live id holds: exact ground truth and recall read vectors through it. */
type LiveRows = Map<number, number>;

/** Exact top-k ids of each query over the live points, and the k-th distance. */
interface Truth {
  readonly ids: number[][];
  readonly kthDistances: number[];
}

/** Search quality and cost of an index at rest. */
interface IndexState {
  readonly recallAt10: number;
  readonly memoryBytes: number;
  readonly graphTombstones: number;
  readonly livePoints: number;
}

/** The bench's context: data, kernel, options, queries. */
interface Bench {
  readonly dataset: Dataset;
  readonly kernel: Kernel;
  readonly options: LiveIndexOptions;
  readonly queryCount: number;
  readonly efSearch: number;
}

/** A compaction from its start to `settle()`. */
interface CompactionRun {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly searches: number;
  readonly searchMs: ReturnType<typeof summarize>;
  readonly eventLoopDelayMs: ReturnType<typeof summarize>;
  readonly searchRecallAt10: number | undefined;
  readonly memoryBytesPeak: number;
}

/**
 * Runs the compaction benchmark.
 *
 * @param args Flags as in {@linkcode USAGE}.
 * @returns The results (also written to `--out`).
 */
export async function runCompactionBenchmark(
  args: readonly string[],
): Promise<Record<string, unknown>> {
  const flags = parseFlags(args, FLAGS);
  const name = flags.get("dataset") ?? "glove-100-tail";
  const points = intFlag(flags, "points", 100_000);
  const churnPercent = intFlag(flags, "churn", 40);
  const efSearch = intFlag(flags, "ef", 256);
  const intervalMs = intFlag(flags, "interval-ms", 5);
  const out = flags.get("out") ?? "bench/results/compaction.json";
  const loadAtStart = loadAverage();
  const dataset = await readDataset(sharedDataPath(name));
  const churnCount = Math.floor(points * churnPercent / 100);
  if (churnPercent > 100 || points + 2 * churnCount > dataset.count) {
    throw new RangeError(
      `Cannot churn ${churnPercent}% of ${points} points twice: ${name} holds ${dataset.count} rows`,
    );
  }
  const bench: Bench = {
    dataset,
    kernel: await loadKernel(),
    options: {
      dimension: dataset.dim,
      metric: dataset.metric,
      m: 16,
      efConstruction: 200,
      efSearch,
    },
    queryCount: Math.min(intFlag(flags, "queries", 1000), dataset.queryCount),
    efSearch,
  };
  console.log(
    `compaction: ${name}, ${points} points, ${churnPercent}% replaced (${churnCount}), ` +
      `m 16, efConstruction 200, efSearch ${efSearch}, ${bench.queryCount} queries, ` +
      `${navigator.hardwareConcurrency} cores`,
  );
  const steps = await runSteps(bench, points, churnCount, intervalMs);
  const report = {
    benchmark: "compaction",
    command: `deno run -A bench/compaction.ts ${args.join(" ")}`.trim(),
    dataset: name,
    dim: dataset.dim,
    metric: dataset.metric,
    points,
    churn_percent: churnPercent,
    replaced_points: churnCount,
    replacement_vectors: "rows after the first `points` of the data set (different real vectors)",
    m: 16,
    ef_construction: 200,
    ef_search: efSearch,
    k: K,
    queries: bench.queryCount,
    search_interval_ms: intervalMs,
    ...steps,
    machine: {
      os_release: Deno.osRelease(),
      cpu: os.cpus()[0]?.model.trim() ?? "unknown",
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      load_average_at_start: loadAtStart,
      load_average_at_end: loadAverage(),
    },
    date: new Date().toISOString(),
  };
  printReport(report);
  await writeResults(out, report);
  return report;
}

/**
 * The four steps, each measured. QPS is measured by {@linkcode interleavedQps} at two points,
 * over indexes alive at the same time (a copy of the built graph, the churned one, the
 * compacted one), so the machine's other load hits them alike.
 */
async function runSteps(
  bench: Bench,
  points: number,
  churnCount: number,
  intervalMs: number,
): Promise<Record<string, unknown>> {
  const live: LiveRows = new Map();
  const churned = new LiveIndex(bench.kernel, { ...bench.options, compactTombstoneRatio: 1 });
  const buildMs = await timed(() =>
    upsertRows(churned, bench.dataset, live, Array.from({ length: points }, (_, i) => [i, i]))
  );
  const built = measure(bench, churned, live, "built");
  const builtCopy = new LiveIndex(
    bench.kernel,
    { ...bench.options, compactTombstoneRatio: 1 },
    captureGraph(bench, churned).load(),
  );
  const churnMs = await timed(() =>
    upsertRows(churned, bench.dataset, live, churnPairs(points, churnCount, 0))
  );
  assert.equal(churned.compactionCount, 0, "ratio 1 must not compact");
  const withoutCompaction = measure(bench, churned, live, "churned, no compaction");
  const capture = captureGraph(bench, churned);

  const quiet = await compact(bench, capture, intervalMs, undefined);
  quiet.index.stop();
  const searching = await compact(bench, capture, intervalMs, live);
  const index = searching.index;
  const compacted = measure(bench, index, live, "compacted");
  const qpsAfterCompaction = interleavedQps(bench, { built: builtCopy, churned, compacted: index });
  churned.stop();

  const churnAgainMs = await timed(() =>
    upsertRows(index, bench.dataset, live, churnPairs(points, churnCount, churnCount))
  );
  const compactionsDuringChurn = index.compactionCount - 1;
  const churnedAgain = measure(bench, index, live, "churned again, default ratio");
  const qpsAfterChurnAgain = interleavedQps(bench, { built: builtCopy, churned_again: index });
  index.stop();
  builtCopy.stop();
  return {
    build: { seconds: round3(buildMs / 1000), ...built, qps: qpsAfterCompaction.built },
    churn_without_compaction: {
      seconds: round3(churnMs / 1000),
      ...withoutCompaction,
      qps: qpsAfterCompaction.churned,
    },
    compaction_quiet: runReport(quiet.run),
    compaction_while_searching: runReport(searching.run),
    compacted: { ...compacted, qps: qpsAfterCompaction.compacted },
    churn_with_compaction: {
      seconds: round3(churnAgainMs / 1000),
      compactions: compactionsDuringChurn,
      ...churnedAgain,
      qps: qpsAfterChurnAgain.churned_again,
    },
    qps_passes: { after_compaction: qpsAfterCompaction, after_churn_again: qpsAfterChurnAgain },
    graph_restore_ms: round3(capture.restoreMs),
  };
}

/**
 * Single-thread QPS of several indexes measured in turns: a pass of every query over each index,
 * {@linkcode QPS_ROUNDS} times, after a warm-up of each. Each index's QPS is its median pass.
 */
function interleavedQps<Name extends string>(
  bench: Bench,
  indexes: Record<Name, LiveIndex>,
): Record<Name, number> & { passes: Record<Name, number[]> } {
  const { dataset, queryCount, efSearch } = bench;
  const names = Object.keys(indexes) as Name[];
  const passes = {} as Record<Name, number[]>;
  for (const name of names) {
    passes[name] = [];
    for (let q = 0; q < WARMUP_QUERIES; q++) {
      indexes[name].search(dataset.query(q % queryCount), K, { efSearch });
    }
  }
  for (let round = 0; round < QPS_ROUNDS; round++) {
    for (const name of names) {
      const started = performance.now();
      for (let q = 0; q < queryCount; q++) indexes[name].search(dataset.query(q), K, { efSearch });
      passes[name].push(Math.round(queryCount / ((performance.now() - started) / 1000)));
    }
  }
  const qps = {} as Record<Name, number>;
  for (const name of names) {
    qps[name] = [...passes[name]].sort((a, b) => a - b)[Math.floor(QPS_ROUNDS / 2)]!;
  }
  console.log(`  QPS by pass: ${JSON.stringify(passes)}`);
  return { ...qps, passes };
}

/** Upserts `[id, row]` pairs in admitted batches, as the engine writes, then settles. */
async function upsertRows(
  index: LiveIndex,
  dataset: Dataset,
  live: LiveRows,
  pairs: readonly (readonly [number, number])[],
): Promise<void> {
  for (let first = 0; first < pairs.length; first += BATCH) {
    const batch = pairs.slice(first, first + BATCH);
    const release = await index.admit(batch.length);
    for (const [id, row] of batch) {
      index.upsert(id, dataset.vector(row));
      live.set(id, row);
    }
    release();
  }
  await index.settle();
}

/**
 * `count` distinct ids of `0..points-1` picked at random (seeded by `offset`), paired with the
 * rows `points + offset …`: each replacement is a real vector no live point holds.
 */
function churnPairs(points: number, count: number, offset: number): [number, number][] {
  const random = seededRandom(SEED + offset);
  const ids = Array.from({ length: points }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (points - i));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids.slice(0, count).map((id, i) => [id, points + offset + i]);
}

/** A settled index's graph as a snapshot holds it: bytes with tombstones, and live rows. */
interface GraphCapture {
  readonly load: () => HnswIndex;
  readonly restoreMs: number;
}

function captureGraph(bench: Bench, index: LiveIndex): GraphCapture {
  const capture = index.capture();
  assert.equal(capture.graphRows, capture.ids.length, "settled: every point is in the graph");
  const dimension = bench.options.dimension;
  const load = () =>
    HnswIndex.loadGraph(bench.kernel, capture.graph, {
      count: capture.graphRows,
      id: (row) => capture.ids[row]!,
      vector: (row) => capture.vectors.subarray(row * dimension, (row + 1) * dimension),
    });
  const started = performance.now();
  const graph = load();
  const restoreMs = performance.now() - started;
  assert.equal(graph.deletedCount, index.graphTombstones, "the capture keeps the tombstones");
  return { load, restoreMs };
}

/**
 * Restores the captured graph into a `LiveIndex` with the default ratio, which starts compacting
 * in its constructor, and measures the compaction until `settle()`. A timer fires every
 * `intervalMs` meanwhile: it records its own lateness (event-loop delay) and the memory held and,
 * given the live rows (`searchLive`), runs a search.
 */
async function compact(
  bench: Bench,
  capture: GraphCapture,
  intervalMs: number,
  searchLive: LiveRows | undefined,
): Promise<{ index: LiveIndex; run: CompactionRun }> {
  const graph = capture.load();
  const truth = searchLive === undefined ? undefined : exactTruth(bench, searchLive);
  const searchMs: number[] = [];
  const delayMs: number[] = [];
  let recallSum = 0;
  let memoryBytesPeak = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const index = new LiveIndex(bench.kernel, bench.options, graph);
  assert.equal(index.compacting, true, "a restored graph with many tombstones is compacted");
  const tick = (dueAtMs: number) => {
    if (!index.compacting) return;
    delayMs.push(performance.now() - dueAtMs);
    memoryBytesPeak = Math.max(memoryBytesPeak, index.memoryBytes);
    if (searchLive !== undefined && truth !== undefined) {
      const q = searchMs.length % bench.queryCount;
      const searchStarted = performance.now();
      const hits = index.search(bench.dataset.query(q), K, { efSearch: bench.efSearch });
      searchMs.push(performance.now() - searchStarted);
      recallSum += recallOf(bench, searchLive, truth, q, hits.map((hit) => hit.id as number));
    }
    const next = performance.now() + intervalMs;
    setTimeout(() => tick(next), intervalMs);
  };
  setTimeout(() => tick(started + intervalMs), intervalMs);
  await index.settle();
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  assert.equal(index.compactionCount, 1, "settle() waits for the compaction");
  assert.equal(index.graphTombstones, 0);
  return {
    index,
    run: {
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      searches: searchMs.length,
      searchMs: summarize(Float64Array.from(searchMs)),
      eventLoopDelayMs: summarize(Float64Array.from(delayMs)),
      searchRecallAt10: searchMs.length === 0 ? undefined : recallSum / searchMs.length,
      memoryBytesPeak,
    },
  };
}

function runReport(run: CompactionRun): Record<string, unknown> {
  return {
    wall_seconds: round3(run.wallMs / 1000),
    cpu_seconds: round3(run.cpuMs / 1000),
    searches: run.searches,
    search_ms: run.searchMs,
    event_loop_delay_ms: run.eventLoopDelayMs,
    search_recall_at_10: run.searchRecallAt10 === undefined ? null : round3(run.searchRecallAt10),
    memory_bytes_peak: run.memoryBytesPeak,
  };
}

/** Recall@10 against exact truth over the live points, memory, tombstones. */
function measure(bench: Bench, index: LiveIndex, live: LiveRows, label: string): IndexState {
  assert.equal(index.pendingCount, 0, "measured after settle()");
  const truth = exactTruth(bench, live);
  const { dataset, queryCount, efSearch } = bench;
  let recallSum = 0;
  for (let q = 0; q < queryCount; q++) {
    const hits = index.search(dataset.query(q), K, { efSearch });
    recallSum += recallOf(bench, live, truth, q, hits.map((hit) => hit.id as number));
  }
  const state: IndexState = {
    recallAt10: round3(recallSum / queryCount),
    memoryBytes: index.memoryBytes,
    graphTombstones: index.graphTombstones,
    livePoints: index.size,
  };
  console.log(`  ${label}: ${JSON.stringify(state)}`);
  return state;
}

/** Exact top-k of every query over the live points, by a brute-force scan in the kernel. */
function exactTruth(bench: Bench, live: LiveRows): Truth {
  const { dataset, kernel, queryCount } = bench;
  const exact = new BruteForceIndex(kernel, { dimension: dataset.dim, metric: dataset.metric });
  exact.reserve(live.size);
  for (const [id, row] of live) exact.upsert(id, dataset.vector(row));
  const ids: number[][] = [];
  const kthDistances: number[] = [];
  for (let q = 0; q < queryCount; q++) {
    const top = exact.search(dataset.query(q), K).map((hit) => hit.id as number);
    ids.push(top);
    const kth = live.get(top[K - 1]!)!;
    kthDistances.push(datasetDistance(dataset.metric, dataset.query(q), dataset.vector(kth)));
  }
  return { ids, kthDistances };
}

function recallOf(bench: Bench, live: LiveRows, truth: Truth, q: number, ids: number[]): number {
  const { dataset } = bench;
  const query = dataset.query(q);
  return recallAgainst(K, ids, truth.ids[q]!, truth.kthDistances[q]!, (id) => {
    const row = live.get(id);
    assert(row !== undefined, `search returned ${id}, which is not live`);
    return datasetDistance(dataset.metric, query, dataset.vector(row));
  });
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** `/proc/loadavg`'s 1, 5 and 15 minute load averages. */
function loadAverage(): number[] {
  return os.loadavg().map((load) => Number(load.toFixed(2)));
}

function printReport(report: Record<string, unknown>): void {
  const state = (key: string) => report[key] as IndexState & { qps: number };
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const row = (label: string, s: IndexState & { qps: number }) => [
    label,
    s.recallAt10.toFixed(3),
    String(s.qps),
    mib(s.memoryBytes),
    String(s.graphTombstones),
  ];
  printTable(["index", "recall@10", "QPS", "memory MiB", "tombstones"], [
    row("built", state("build")),
    row("churned, no compaction", state("churn_without_compaction")),
    row("compacted", state("compacted")),
    row("churned again, compaction on", state("churn_with_compaction")),
  ]);
  const run = (key: string) => report[key] as ReturnType<typeof runReport>;
  const runRow = (label: string, r: ReturnType<typeof runReport>) => {
    const search = r.search_ms as CompactionRun["searchMs"];
    const delay = r.event_loop_delay_ms as CompactionRun["eventLoopDelayMs"];
    return [
      label,
      String(r.wall_seconds),
      String(r.cpu_seconds),
      mib(r.memory_bytes_peak as number),
      search.count === 0 ? "-" : `${search.p50Ms} / ${search.p99Ms}`,
      `${delay.p50Ms} / ${delay.p99Ms} / ${delay.maxMs}`,
    ];
  };
  printTable(
    ["compaction", "wall s", "CPU s", "peak MiB", "search p50/p99 ms", "loop delay p50/p99/max"],
    [
      runRow("quiet", run("compaction_quiet")),
      runRow("searching", run("compaction_while_searching")),
    ],
  );
}

if (import.meta.main) await runAsMain(runCompactionBenchmark, USAGE);
