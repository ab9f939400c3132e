/**
 * HTTP search benchmark: loads a shared data set into a real server through the HTTP API, picks
 * the smallest `ef` reaching the recall target, then measures saturation throughput (closed loop),
 * open-loop latency at fixed rates (from scheduled send times, so coordinated omission is
 * counted) and the same queries in-process against an `HnswIndex` with the same parameters.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/http_search.ts [--dataset glove-100-tail] [--limit N]
 *   [--queries N] [--ef 128,192,256,320] [--clients 4,16] [--rates 100,500] [--seconds 20]
 *   [--saturation-seconds 10] [--out bench/results/http-search-glove-100-tail.json]
 * ```
 *
 * The load generator and the server share the machine's cores (2 here): every HTTP figure
 * includes the client's own CPU cost. Each open-loop run also records the server's own `took_ms`
 * (the engine call), so latency − took_ms is what HTTP, JSON and the client add.
 *
 * @module
 */

import {
  type Dataset,
  limitDataset,
  makeDataset,
  meanRecallAt,
  readDataset,
  sharedDataPath,
} from "../tests/support/dataset.ts";
import { HnswIndex } from "../src/index/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import { searchBody } from "./lib/akidb_client.ts";
import { loadVectors, startBenchServer } from "./lib/bench_server.ts";
import { type LatencySummary, round3, summarize } from "./lib/latency.ts";
import { closedLoop, type ClosedLoopResult, openLoop, type OpenLoopResult } from "./lib/load.ts";
import { cpuSeconds, rssBytes, waitCpuIdle } from "./lib/process_stats.ts";
import {
  intFlag,
  intListFlag,
  machineInfo,
  parseFlags,
  printTable,
  runAsMain,
  writeResults,
} from "./lib/report.ts";

const K = 10;
const RECALL_TARGET = 0.95;
const M = 16;
const EF_CONSTRUCTION = 200;
const BATCH = 1000;
const COLLECTION = "bench";

/** Command-line synopsis. */
export const USAGE = `usage: deno run -A bench/http_search.ts [--dataset glove-100-tail] [--limit N]
  [--queries N] [--ef 128,192,256,320] [--clients 4,16] [--rates 100,500] [--seconds 20]
  [--saturation-seconds 10] [--out file.json]`;

const FLAGS = [
  "dataset",
  "limit",
  "queries",
  "ef",
  "clients",
  "rates",
  "seconds",
  "saturation-seconds",
  "out",
];

async function loadDataset(name: string, limit: number | undefined, queries: number | undefined) {
  let dataset = await readDataset(sharedDataPath(name));
  if (queries !== undefined && queries < dataset.queryCount) {
    const { dim, groundTruthWidth: width } = dataset;
    dataset = makeDataset({
      ...dataset,
      queries: dataset.queries.subarray(0, queries * dim),
      groundTruth: dataset.groundTruth.subarray(0, queries * width),
      groundTruthDistances: dataset.groundTruthDistances.subarray(0, queries * width),
    });
  }
  if (limit !== undefined && limit < dataset.count) {
    console.log(`--limit ${limit}: ground truth RECOMPUTED by brute force (not the shipped one)`);
    dataset = limitDataset(dataset, limit);
  }
  return dataset;
}

/** Recall of every candidate ef over HTTP (4 clients); the first ef reaching the target wins. */
async function sweepEf(
  search: (q: number, ef: number) => Promise<number[]>,
  dataset: Dataset,
  efs: number[],
) {
  const sweep: { ef: number; recall_at_10: number }[] = [];
  let chosen: { ef: number; recall_at_10: number } | undefined;
  for (const ef of efs) {
    const results: number[][] = new Array(dataset.queryCount);
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < dataset.queryCount) {
        const q = next++;
        results[q] = await search(q, ef);
      }
    }));
    const recall = meanRecallAt(K, results, dataset);
    console.log(`  ef ${ef}: recall@10 ${recall.toFixed(4)} over HTTP`);
    sweep.push({ ef, recall_at_10: round3(recall) });
    // Compared unrounded: 0.9496 is below the target even though it prints as 0.950.
    if (recall >= RECALL_TARGET) {
      chosen = sweep.at(-1);
      break;
    }
  }
  return { sweep, chosen: chosen ?? sweep.at(-1)! };
}

/** Builds the same index in this process and measures single-thread QPS at `ef`. */
async function inProcess(dataset: Dataset, ef: number, minSeconds: number) {
  const index = new HnswIndex(await loadKernel(), {
    dimension: dataset.dim,
    metric: dataset.metric,
    m: M,
    efConstruction: EF_CONSTRUCTION,
  });
  const buildStarted = performance.now();
  for (let i = 0; i < dataset.count; i++) index.upsert(i, dataset.vector(i));
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  const results: number[][] = [];
  for (let q = 0; q < dataset.queryCount; q++) {
    results.push(
      index.search(dataset.query(q), K, { efSearch: ef }).map((hit) => hit.id as number),
    );
  }
  const recall = meanRecallAt(K, results, dataset);
  let searched = 0;
  const started = performance.now();
  while (performance.now() - started < minSeconds * 1000) {
    for (let q = 0; q < dataset.queryCount; q++) {
      index.search(dataset.query(q), K, { efSearch: ef });
    }
    searched += dataset.queryCount;
  }
  const qps = searched / ((performance.now() - started) / 1000);
  return {
    build_seconds: round3(buildSeconds),
    recall_at_10: round3(recall),
    qps: Math.round(qps),
  };
}

/**
 * Runs the HTTP search benchmark.
 *
 * @param args Flags as in {@linkcode USAGE}.
 * @returns The results (also written to `--out`).
 */
export async function runHttpSearchBenchmark(
  args: readonly string[],
): Promise<Record<string, unknown>> {
  const flags = parseFlags(args, FLAGS);
  const name = flags.get("dataset") ?? "glove-100-tail";
  const limit = flags.has("limit") ? intFlag(flags, "limit", 0) : undefined;
  const queryLimit = flags.has("queries") ? intFlag(flags, "queries", 0) : undefined;
  const efs = intListFlag(flags, "ef", [128, 192, 256, 320]);
  const clientCounts = intListFlag(flags, "clients", [4, 16]);
  const rates = intListFlag(flags, "rates", [100, 500]);
  const seconds = intFlag(flags, "seconds", 20);
  const saturationSeconds = intFlag(flags, "saturation-seconds", 10);
  const out = flags.get("out") ??
    `bench/results/http-search-${name}${limit ? `-${limit}` : ""}.json`;
  const dataset = await loadDataset(name, limit, queryLimit);
  console.log(
    `http_search: ${dataset.name} ${dataset.count} × ${dataset.dim} ${dataset.metric}, ` +
      `${dataset.queryCount} queries, m ${M}, efConstruction ${EF_CONSTRUCTION}. ` +
      `Client and server share the machine's ${navigator.hardwareConcurrency} cores.`,
  );

  const { server, client } = await startBenchServer();
  let report: Record<string, unknown>;
  try {
    await client.createCollection({
      name: COLLECTION,
      dimension: dataset.dim,
      metric: dataset.metric,
      hnsw: { m: M, ef_construction: EF_CONSTRUCTION },
    });
    const cpuBefore = await cpuSeconds(server.pid);
    const loadSeconds = await loadVectors(client, COLLECTION, dataset.base, dataset.dim, BATCH, 2);
    const { vector_count: vectorCount } = await client.collection(COLLECTION);
    if (vectorCount !== dataset.count) {
      throw new Error(
        `Cannot benchmark: server holds ${vectorCount} vectors, sent ${dataset.count}`,
      );
    }
    console.log(
      `loaded ${dataset.count} vectors over HTTP in ${loadSeconds.toFixed(1)} s (acked, fsync'd)`,
    );
    const idleWaitMs = await waitCpuIdle(server.pid, 1_800_000);
    const indexedSeconds = loadSeconds + idleWaitMs / 1000;
    const serverCpu = (await cpuSeconds(server.pid)) - cpuBefore;
    console.log(
      `server idle (background indexing done) ${(idleWaitMs / 1000).toFixed(1)} s after the last ` +
        `ack; load → indexed ${indexedSeconds.toFixed(1)} s; server CPU ${serverCpu.toFixed(1)} s`,
    );
    const search = async (q: number, ef: number) =>
      (await client.searchBody(COLLECTION, searchBody(dataset.query(q), K, ef))).map((h) =>
        h.id as number
      );
    const { sweep, chosen } = await sweepEf(search, dataset, efs);
    const ef = chosen.ef;
    const bodies = Array.from(
      { length: dataset.queryCount },
      (_, q) => searchBody(dataset.query(q), K, ef),
    );
    let tookMs: number[] = [];
    const request = async (i: number) => {
      tookMs.push((await client.searchWithTime(COLLECTION, bodies[i % bodies.length]!)).took_ms);
    };
    await closedLoop(4, 2000, request); // warm-up
    const saturation: ClosedLoopResult[] = [];
    for (const clients of clientCounts) {
      const result = await closedLoop(clients, saturationSeconds * 1000, request);
      console.log(`  closed loop ${clients} clients: ${result.requestsPerSecond} req/s`);
      saturation.push(result);
    }
    const openLoops: (OpenLoopResult & { server_took_ms: LatencySummary })[] = [];
    for (const rate of rates) {
      tookMs = [];
      const result = await openLoop(rate, seconds * 1000, request);
      const took = summarize(Float64Array.from(tookMs));
      console.log(
        `  open loop ${rate}/s: p50 ${result.latency.p50Ms} p95 ${result.latency.p95Ms} ` +
          `p99 ${result.latency.p99Ms} ms (server took_ms p50 ${took.p50Ms} p95 ${took.p95Ms})`,
      );
      openLoops.push({ ...result, server_took_ms: took });
    }
    const serverRss = await rssBytes(server.pid);
    await server.stop();
    console.log(`in-process HnswIndex build (${dataset.count} vectors, one thread) …`);
    const local = await inProcess(dataset, ef, 5);
    const bestHttp = Math.max(...saturation.map((s) => s.requestsPerSecond));
    const ratio = bestHttp / local.qps;
    const overheadMs = 1000 / bestHttp - 1000 / local.qps;

    printTable(
      ["mode", "ef", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "took p50", "send lag p99"],
      [
        ...saturation.map((s) => [
          `HTTP closed loop, ${s.clients} clients`,
          String(ef),
          String(s.requestsPerSecond),
          String(s.latency.p50Ms),
          String(s.latency.p95Ms),
          String(s.latency.p99Ms),
          String(s.latency.maxMs),
          "",
          "",
        ]),
        ...openLoops.map((o) => [
          `HTTP open loop, target ${o.targetPerSecond}/s`,
          String(ef),
          String(o.achievedPerSecond),
          String(o.latency.p50Ms),
          String(o.latency.p95Ms),
          String(o.latency.p99Ms),
          String(o.latency.maxMs),
          String(o.server_took_ms.p50Ms),
          String(o.sendLagP99Ms),
        ]),
        ["in-process HnswIndex, 1 thread", String(ef), String(local.qps), "", "", "", "", "", ""],
      ],
    );
    const errors = [...saturation, ...openLoops].reduce((sum, run) => sum + run.errors, 0);
    const dropped = openLoops.reduce((sum, run) => sum + run.dropped, 0);
    console.log(`errors ${errors}, dropped ${dropped} (listed per run in the results file)`);
    console.log(
      `recall@10 at ef ${ef}: HTTP ${chosen.recall_at_10}, in-process ${local.recall_at_10}. ` +
        `HTTP/in-process throughput ${ratio.toFixed(2)} (target ≥ 0.7); HTTP+JSON overhead ` +
        `${overheadMs.toFixed(3)} ms of CPU per request at saturation. Client and server share ` +
        `${navigator.hardwareConcurrency} cores.`,
    );
    report = {
      benchmark: "http_search",
      dataset: dataset.name,
      count: dataset.count,
      dim: dataset.dim,
      metric: dataset.metric,
      queries: dataset.queryCount,
      ground_truth: limit === undefined ? "shipped" : "recomputed by brute force (--limit)",
      m: M,
      ef_construction: EF_CONSTRUCTION,
      load: {
        batch_points: BATCH,
        concurrent_requests: 2,
        wal_sync_mode: "always",
        load_seconds: round3(loadSeconds),
        vectors_per_second: Math.round(dataset.count / loadSeconds),
        load_to_indexed_seconds: round3(indexedSeconds),
        server_cpu_seconds: round3(serverCpu),
        server_rss_bytes_after: serverRss,
      },
      ef_sweep: sweep,
      ef,
      recall_at_10: chosen.recall_at_10,
      saturation,
      open_loop: openLoops,
      open_loop_seconds: seconds,
      in_process: local,
      http_over_in_process_throughput: round3(ratio),
      http_json_overhead_ms_per_request: round3(overheadMs),
      machine: machineInfo(),
      date: new Date().toISOString(),
    };
  } finally {
    await server.stop();
  }
  await writeResults(out, report);
  return report;
}

if (import.meta.main) await runAsMain(runHttpSearchBenchmark, USAGE);
