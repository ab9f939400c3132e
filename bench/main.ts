/**
 * `deno task bench [name] [flags…]`: lists the benchmarks and runs one. With no name, runs the
 * ANN benchmark on siftsmall with its defaults; `deno task bench list` only lists.
 *
 * @module
 */

import { runAnnBenchmark, USAGE as ANN_USAGE } from "./ann.ts";
import { runHttpSearchBenchmark, USAGE as HTTP_SEARCH_USAGE } from "./http_search.ts";
import { runIngestBenchmark, USAGE as INGEST_USAGE } from "./ingest.ts";
import {
  runSearchUnderIngestBenchmark,
  USAGE as SEARCH_UNDER_INGEST_USAGE,
} from "./search_under_ingest.ts";
import { runStartupBenchmark, USAGE as STARTUP_USAGE } from "./startup.ts";

/** A runnable benchmark. */
interface Benchmark {
  /** What it measures. */
  description: string;
  /** Flags synopsis. */
  usage: string;
  /** Runs it with the given flags. */
  run(args: readonly string[]): Promise<unknown>;
}

/** Every benchmark `deno task bench` knows, by name. */
const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  ann: {
    description: "HNSW recall@10, single-thread QPS, build time and bytes/vector: " +
      "AkiDB vs hnswlib-node on the shared data sets (bench/ann.ts)",
    usage: ANN_USAGE,
    run: runAnnBenchmark,
  },
  "http-search": {
    description: "search over HTTP on a loaded server: ef for recall@10 ≥ 0.95, saturation " +
      "req/s, open-loop p50/p95/p99, ratio to in-process HnswIndex (bench/http_search.ts)",
    usage: HTTP_SEARCH_USAGE,
    run: runHttpSearchBenchmark,
  },
  ingest: {
    description: "durable ingest over HTTP (1000-point batches, wal sync always) vs LanceDB " +
      "table.add under Node (bench/ingest.ts)",
    usage: INGEST_USAGE,
    run: runIngestBenchmark,
  },
  startup: {
    description: "start → /ready after 1M points in the WAL; WAL decode vs HNSW insert " +
      "(bench/startup.ts)",
    usage: STARTUP_USAGE,
    run: runStartupBenchmark,
  },
  "search-under-ingest": {
    description: "open-loop search p99 idle vs during batch ingest (bench/search_under_ingest.ts)",
    usage: SEARCH_UNDER_INGEST_USAGE,
    run: runSearchUnderIngestBenchmark,
  },
};

/** Arguments used when `deno task bench` gets none. */
const DEFAULT_ARGS = ["ann", "--dataset", "siftsmall"];

function printList(): void {
  console.log("benchmarks (deno task bench <name> [flags]):");
  for (const [name, benchmark] of Object.entries(BENCHMARKS)) {
    console.log(`  ${name.padEnd(19)} ${benchmark.description}`);
  }
}

/**
 * Lists the benchmarks and runs the one named by `args[0]` (default: ANN on siftsmall).
 *
 * @param args `[name, ...flags]`, or `list`, or nothing.
 * @returns Process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args.length === 0 ? DEFAULT_ARGS : args;
  printList();
  if (name === "list" || name === "--help" || name === "-h") return 0;
  const benchmark = name === undefined ? undefined : BENCHMARKS[name];
  if (benchmark === undefined) {
    console.error(`Cannot run benchmark "${name}": unknown name`);
    return 2;
  }
  console.log(`\nrunning ${name} ${rest.join(" ")}\n`);
  try {
    await benchmark.run(rest);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    if (error instanceof TypeError) console.error(benchmark.usage);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
