/**
 * `deno task bench [name] [flags…]`: lists the benchmarks and runs one. With no name, runs the
 * ANN benchmark on siftsmall with its defaults; `deno task bench list` only lists.
 *
 * @module
 */

import { runAnnBenchmark, USAGE as ANN_USAGE } from "./ann.ts";

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
};

/** Arguments used when `deno task bench` gets none. */
const DEFAULT_ARGS = ["ann", "--dataset", "siftsmall"];

function printList(): void {
  console.log("benchmarks (deno task bench <name> [flags]):");
  for (const [name, benchmark] of Object.entries(BENCHMARKS)) {
    console.log(`  ${name.padEnd(6)} ${benchmark.description}`);
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
