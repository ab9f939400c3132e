/**
 * ANN benchmark: recall@10 and single-thread QPS over efSearch, build time and memory per vector,
 * for AkiDB and hnswlib-node on the shared data sets.
 *
 * ```sh
 * deno task bench:ann --dataset ../shared/data/siftsmall/siftsmall.json [--m 16]
 *   [--ef-construction 200] [--ef 16,32,64,128,256] [--engines akidb,hnswlib-node]
 *   [--limit N] [--queries N] [--seed 42] [--min-seconds 1] [--out bench/results/x.json]
 * ```
 *
 * `--dataset` also takes a bare set name (`siftsmall`). `--limit N` indexes only the first N base
 * vectors and recomputes the ground truth by brute force. Recall is tie-aware (see
 * `tests/support/dataset.ts`). QPS times only the search calls: queries are converted to each
 * engine's native form beforehand, and result ids are scored afterwards.
 *
 * @module
 */

import os from "node:os";
import process from "node:process";
import {
  type Dataset,
  limitDataset,
  makeDataset,
  meanRecallAt,
  readDataset,
  sharedDataPath,
} from "../tests/support/dataset.ts";
import {
  type AnnEngine,
  createEngine,
  ENGINE_NAMES,
  type EngineName,
  isEngineName,
} from "./engines/mod.ts";
import { intFlag, parseFlags, runAsMain, writeResults } from "./lib/report.ts";

/** Recall is reported at this cut-off. */
const RECALL_K = 10;

/** Parsed command line of the ANN benchmark. */
export interface AnnOptions {
  /** Header path of the data set. */
  dataset: string;
  /** HNSW m. */
  m: number;
  /** HNSW efConstruction. */
  efConstruction: number;
  /** efSearch values to measure. */
  efSearchValues: number[];
  /** Engines, in run order. */
  engines: EngineName[];
  /** Index only the first N base vectors (ground truth recomputed). */
  limit: number | undefined;
  /** Use only the first N queries. */
  queries: number | undefined;
  /** Level generator seed. */
  seed: number;
  /** Repeat timed passes over all queries until this many seconds have passed. */
  minSeconds: number;
  /** Where to write the JSON results. */
  out: string | undefined;
}

/** One efSearch measurement, in the JSON results' field names. */
export interface AnnRun {
  /** efSearch. */
  ef: number;
  /** Mean tie-aware recall@10 over all queries. */
  recall_at_10: number;
  /** Queries per second, one thread. */
  qps: number;
}

/** One engine's results. */
export interface EngineResult {
  /** Build wall time, one thread. */
  build_seconds: number;
  /** Index memory per vector. */
  bytes_per_vector: number;
  /** One run per efSearch. */
  runs: AnnRun[];
}

/** Details printed but not written to the JSON results. */
interface EngineDetail {
  vectorsPerSecond: number;
  buildCpuPerWall: number;
  memoryNote: string;
}

const KNOWN_FLAGS = [
  "dataset",
  "m",
  "ef-construction",
  "ef",
  "engines",
  "limit",
  "queries",
  "seed",
  "min-seconds",
  "out",
];

/** Command-line synopsis of the ANN benchmark. */
export const USAGE = `usage: deno task bench:ann --dataset <header.json | name> [--m 16]
  [--ef-construction 200] [--ef 16,32,64,128,256] [--engines ${ENGINE_NAMES.join(",")}]
  [--limit N] [--queries N] [--seed 42] [--min-seconds 1] [--out results.json]`;

/**
 * Parses the benchmark's flags (`--name value` or `--name=value`).
 *
 * @param args Command-line arguments.
 * @returns The options with defaults filled in.
 * @throws {TypeError} On an unknown flag, a missing value or a malformed number.
 * @example
 * ```ts
 * import { parseAnnArgs } from "./ann.ts";
 * const options = parseAnnArgs(["--dataset", "siftsmall", "--ef=16,32"]);
 * if (options.efSearchValues.join() !== "16,32" || options.m !== 16) throw new Error();
 * ```
 */
export function parseAnnArgs(args: readonly string[]): AnnOptions {
  const flags = parseFlags(args, KNOWN_FLAGS);
  const int = (name: string, fallback?: number): number | undefined =>
    flags.has(name) || fallback !== undefined ? intFlag(flags, name, fallback ?? 0) : undefined;
  const engines = (flags.get("engines") ?? ENGINE_NAMES.join(",")).split(",").map((name) => {
    if (!isEngineName(name)) throw new TypeError(`Cannot parse --engines: unknown "${name}"`);
    return name;
  });
  const efSearchValues = (flags.get("ef") ?? "16,32,64,128,256").split(",").map((text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < RECALL_K) {
      throw new TypeError(`Cannot parse --ef: "${text}" is not an integer ≥ ${RECALL_K}`);
    }
    return value;
  });
  const minSeconds = Number(flags.get("min-seconds") ?? "1");
  if (!(minSeconds >= 0)) throw new TypeError(`Cannot parse --min-seconds: not a number ≥ 0`);
  return {
    dataset: flags.get("dataset") ?? "siftsmall",
    m: int("m", 16)!,
    efConstruction: int("ef-construction", 200)!,
    efSearchValues,
    engines: [...new Set(engines)],
    limit: int("limit"),
    queries: int("queries"),
    seed: int("seed", 42)!,
    minSeconds,
    out: flags.get("out"),
  };
}

/**
 * Loads the data set named by the options, cut to `--queries` and `--limit` (recomputing the
 * ground truth by brute force in that case, and saying so).
 *
 * @param options Parsed options.
 * @returns The data set to benchmark on.
 * @throws {RangeError} When `--limit` leaves fewer than 10 vectors or exceeds the set.
 */
export async function loadBenchDataset(options: AnnOptions): Promise<Dataset> {
  const isName = !options.dataset.includes("/") && !options.dataset.endsWith(".json");
  const path = isName ? sharedDataPath(options.dataset) : options.dataset;
  let dataset = await readDataset(path);
  if (options.queries !== undefined && options.queries < dataset.queryCount) {
    const { dim, groundTruthWidth: width } = dataset;
    const n = options.queries;
    dataset = makeDataset({
      ...dataset,
      queries: dataset.queries.subarray(0, n * dim),
      groundTruth: dataset.groundTruth.subarray(0, n * width),
      groundTruthDistances: dataset.groundTruthDistances.subarray(0, n * width),
    });
  }
  if (options.limit !== undefined && options.limit !== dataset.count) {
    if (options.limit < RECALL_K) {
      throw new RangeError(`Cannot limit to ${options.limit} vectors: recall@10 needs ≥ 10`);
    }
    const started = performance.now();
    dataset = limitDataset(dataset, options.limit);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `--limit ${options.limit}: indexing only the first ${options.limit} base vectors; ground ` +
        `truth RECOMPUTED by brute force for ${dataset.queryCount} queries (${
          seconds.toFixed(1)
        } s), not the shipped one`,
    );
  }
  return dataset;
}

/** CPU seconds (user + system) of this process so far. */
function processCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Times the build of one engine on the whole base.
 * @returns Wall seconds and the CPU/wall ratio (≈ 1 for a single-threaded build).
 */
function timeBuild(engine: AnnEngine, dataset: Dataset) {
  const cpuBefore = processCpuSeconds();
  const started = performance.now();
  engine.build(dataset.base, dataset.count);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = processCpuSeconds();
  const cpuPerWall = (cpuAfter - cpuBefore) / seconds;
  return { seconds, cpuPerWall };
}

/**
 * Measures one efSearch: an untimed warm-up pass whose results give recall, then timed passes over
 * all queries until `minSeconds` have passed (at least one pass).
 */
function measureRun(
  engine: AnnEngine,
  prepared: readonly unknown[],
  dataset: Dataset,
  efSearch: number,
  minSeconds: number,
): AnnRun {
  engine.setEfSearch(efSearch);
  const results = prepared.map((query) => Array.from(engine.search(query, RECALL_K)));
  const recall = meanRecallAt(RECALL_K, results, dataset);
  let searchedCount = 0;
  let elapsedMs = 0;
  let sink = 0;
  do {
    const started = performance.now();
    for (const query of prepared) sink += engine.search(query, RECALL_K).length;
    elapsedMs += performance.now() - started;
    searchedCount += prepared.length;
  } while (elapsedMs < minSeconds * 1000);
  if (sink !== searchedCount * RECALL_K) {
    console.warn(
      `  warning: ${engine.name} returned fewer than ${RECALL_K} results for some query`,
    );
  }
  return { ef: efSearch, recall_at_10: recall, qps: searchedCount / (elapsedMs / 1000) };
}

/** Builds and measures one engine across all efSearch values. */
function benchmarkEngine(engine: AnnEngine, dataset: Dataset, options: AnnOptions) {
  const name = engine.name;
  console.log(`${name}: building ${dataset.count} × ${dataset.dim} (one thread) …`);
  const build = timeBuild(engine, dataset);
  const prepared: unknown[] = [];
  for (let q = 0; q < dataset.queryCount; q++) prepared.push(engine.prepareQuery(dataset.query(q)));
  const runs: AnnRun[] = [];
  for (const efSearch of options.efSearchValues) {
    const run = measureRun(engine, prepared, dataset, efSearch, options.minSeconds);
    console.log(
      `  efSearch ${efSearch}: recall@10 ${run.recall_at_10.toFixed(4)}, ${run.qps.toFixed(0)} QPS`,
    );
    runs.push(run);
  }
  const result: EngineResult = {
    build_seconds: build.seconds,
    bytes_per_vector: engine.bytesPerVector(),
    runs,
  };
  const detail: EngineDetail = {
    vectorsPerSecond: dataset.count / build.seconds,
    buildCpuPerWall: build.cpuPerWall,
    memoryNote: engine.memoryNote(),
  };
  return { result, detail };
}

/** Prints the results table and how each engine's memory figure was obtained. */
function printTable(
  results: ReadonlyMap<string, { result: EngineResult; detail: EngineDetail }>,
): void {
  const header = ["engine", "ef", "recall@10", "QPS", "build s", "vectors/s", "bytes/vector"];
  const rows: string[][] = [];
  for (const [name, { result, detail }] of results) {
    for (const run of result.runs) {
      rows.push([
        name,
        String(run.ef),
        run.recall_at_10.toFixed(4),
        run.qps.toFixed(0),
        result.build_seconds.toFixed(2),
        detail.vectorsPerSecond.toFixed(0),
        result.bytes_per_vector.toFixed(1),
      ]);
    }
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))
      .join("  ");
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) console.log(line(row));
  console.log("");
  for (const [name, { detail }] of results) {
    const cpu = ` Build CPU/wall ${
      detail.buildCpuPerWall.toFixed(2)
    } (≤ 1: one thread; load from other processes lowers it).`;
    console.log(`${name} bytes/vector: ${detail.memoryNote}.${cpu}`);
  }
}

/** The result with figures rounded to what the measurement supports. */
function rounded(result: EngineResult): EngineResult {
  const round = (value: number, digits: number) => Number(value.toFixed(digits));
  return {
    build_seconds: round(result.build_seconds, 3),
    bytes_per_vector: round(result.bytes_per_vector, 1),
    runs: result.runs.map((run) => ({
      ef: run.ef,
      recall_at_10: round(run.recall_at_10, 4),
      qps: round(run.qps, 1),
    })),
  };
}

/** CPU model, core count and Deno version for the results file. */
function machineInfo(): { cpu: string; cores: number; deno: string } {
  // node:os reads /proc/cpuinfo under --allow-sys; Deno.readTextFile("/proc/…") needs --allow-all.
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || "unknown",
    cores: cpus.length || navigator.hardwareConcurrency,
    deno: Deno.version.deno,
  };
}

/**
 * Runs the ANN benchmark with the given command-line arguments.
 *
 * @param args Flags as described in {@linkcode USAGE}.
 * @returns The results object (also written to `--out` when given).
 */
export async function runAnnBenchmark(args: readonly string[]): Promise<Record<string, unknown>> {
  const options = parseAnnArgs(args);
  const dataset = await loadBenchDataset(options);
  console.log(
    `dataset ${dataset.name}: ${dataset.count} × ${dataset.dim} ${dataset.metric}, ` +
      `${dataset.queryCount} queries; m ${options.m}, efConstruction ${options.efConstruction}, ` +
      `seed ${options.seed}; recall@${RECALL_K} is tie-aware`,
  );
  const params = {
    dim: dataset.dim,
    metric: dataset.metric,
    m: options.m,
    efConstruction: options.efConstruction,
    seed: options.seed,
  };
  // Load every engine before building any, so a missing one fails in seconds, not minutes.
  const engines: (AnnEngine | undefined)[] = [];
  for (const name of options.engines) engines.push(await createEngine(name, params));
  const measured = new Map<string, { result: EngineResult; detail: EngineDetail }>();
  for (let i = 0; i < engines.length; i++) {
    const engine = engines[i]!;
    engines[i] = undefined; // release each index once measured
    measured.set(engine.name, benchmarkEngine(engine, dataset, options));
  }
  printTable(measured);
  const report = {
    dataset: dataset.name,
    count: dataset.count,
    dim: dataset.dim,
    metric: dataset.metric,
    m: options.m,
    ef_construction: options.efConstruction,
    engines: Object.fromEntries([...measured].map(([name, { result }]) => [name, rounded(result)])),
    machine: machineInfo(),
    date: new Date().toISOString(),
  };
  if (options.out !== undefined) await writeResults(options.out, report);
  return report;
}

if (import.meta.main) await runAsMain(runAnnBenchmark, USAGE);
