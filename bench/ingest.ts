/**
 * Durable ingest over HTTP: 1,000-point batches of 128-d seeded vectors into a fresh server per
 * client count (WAL sync mode `always`: every batch is acknowledged after its fsync), one run with
 * `--wal-sync-mode none` at the largest client count, and LanceDB `table.add` on the very same
 * batches, under Node, in the same run.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/ingest.ts [--points 200000] [--clients 1,4,8]
 *   [--seed 42] [--no-lancedb 1] [--out bench/results/ingest.json]
 * ```
 *
 * The server bounds its unindexed exact tail (`TAIL_BYTES_MAX` in `src/engine/live_index.ts`:
 * 32,768 points at 128-d) and holds batches beyond it until graph building has made room, so a
 * run has a burst (the tail fills at full speed) and then a sustained part paced by the graph;
 * each AkiDB run reports both, and the single-thread HNSW insert rate on the same vectors
 * (in-process, no HTTP) is measured as the ceiling of the sustained part.
 *
 * LanceDB runs from `bench/peers` (`npm ci --prefix bench/peers`); the batches go to it through
 * a temporary float32 file, and both sides print the file's checksum. Request bodies (JSON) and
 * Arrow tables are built before the clock starts. The client and the server share the cores.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { HnswIndex } from "../src/index/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import { TAIL_BYTES_MAX } from "../src/engine/live_index.ts";
import { upsertBody } from "./lib/akidb_client.ts";
import { startBenchServer } from "./lib/bench_server.ts";
import { round3 } from "./lib/latency.ts";
import { cpuSeconds } from "./lib/process_stats.ts";
import {
  intFlag,
  intListFlag,
  machineInfo,
  parseFlags,
  printTable,
  runAsMain,
  writeResults,
} from "./lib/report.ts";
import { seededVectors, vectorChecksum } from "./lib/vectors.ts";

const DIMENSION = 128;
const BATCH = 1000;
const COLLECTION = "ingest";
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Command-line synopsis. */
export const USAGE = `usage: deno run -A bench/ingest.ts [--points 200000] [--clients 1,4,8]
  [--seed 42] [--no-lancedb 1] [--out file.json]`;

interface IngestRun {
  engine: string;
  clients: number;
  points: number;
  seconds: number;
  vectors_per_second: number;
  server_cpu_seconds?: number;
  /** Points acknowledged while the tail had room, and their rate. */
  burst_points?: number;
  burst_vectors_per_second?: number;
  /** The rest, paced by graph building (backpressure). */
  sustained_vectors_per_second?: number;
}

/** Points the server's tail holds at this dimension before writes wait. */
const TAIL_POINTS = Math.floor(TAIL_BYTES_MAX / (DIMENSION * 4));

/** Sends every body with `clients` requests in flight against a fresh server. */
async function akidbRun(
  bodies: readonly string[],
  points: number,
  clients: number,
  syncMode: "always" | "none",
): Promise<IngestRun> {
  const { server, client } = await startBenchServer(undefined, 120_000, [
    "--wal-sync-mode",
    syncMode,
  ]);
  try {
    await client.createCollection({ name: COLLECTION, dimension: DIMENSION, metric: "l2" });
    const cpuBefore = await cpuSeconds(server.pid);
    let next = 0;
    let acked = 0;
    let burstAckMs = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < bodies.length) {
        await client.upsertBody(COLLECTION, bodies[next++]!);
        acked += Math.min(BATCH, points - acked);
        if (acked <= TAIL_POINTS) burstAckMs = performance.now() - started;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const burst = Math.min(acked, Math.floor(TAIL_POINTS / BATCH) * BATCH);
    const cpu = (await cpuSeconds(server.pid)) - cpuBefore;
    const { vector_count: stored } = await client.collection(COLLECTION);
    if (stored !== points) {
      throw new Error(`Cannot trust the run: server holds ${stored}, sent ${points}`);
    }
    return {
      engine: `akidb (HTTP, wal sync ${syncMode})`,
      clients,
      points,
      seconds: round3(seconds),
      vectors_per_second: Math.round(points / seconds),
      server_cpu_seconds: round3(cpu),
      burst_points: burst,
      burst_vectors_per_second: Math.round(burst / (burstAckMs / 1000)),
      ...(points > burst
        ? {
          sustained_vectors_per_second: Math.round(
            (points - burst) / (seconds - burstAckMs / 1000),
          ),
        }
        : {}),
    };
  } finally {
    await server.stop(5_000);
  }
}

/** Single-thread HNSW inserts/s on the first `count` vectors, in-process (the server's defaults). */
async function graphInsertRate(vectors: Float32Array, count: number): Promise<number> {
  const index = new HnswIndex(await loadKernel(), { dimension: DIMENSION, metric: "l2" });
  const started = performance.now();
  for (let row = 0; row < count; row++) {
    index.upsert(row, vectors.subarray(row * DIMENSION, (row + 1) * DIMENSION));
  }
  return Math.round(count / ((performance.now() - started) / 1000));
}

/** Runs the LanceDB side under Node on the same vectors (via a temporary file). */
async function lancedbRuns(vectors: Float32Array, clientCounts: number[], checksum: number) {
  const file = await Deno.makeTempFile({ prefix: "akidb-ingest-", suffix: ".f32" });
  try {
    await Deno.writeFile(
      file,
      new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength),
    );
    const output = await new Deno.Command("node", {
      args: [
        `${ROOT}bench/peers/lancedb_ingest.mjs`,
        file,
        String(DIMENSION),
        String(BATCH),
        clientCounts.join(","),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!output.success) throw new Error("Cannot run the LanceDB side: node exited non-zero");
    const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
    const result = JSON.parse(lines[lines.length - 1]!) as {
      checksum: number;
      runs: { concurrency: number; points: number; seconds: number; vectors_per_second: number }[];
    };
    console.log(`checksum: deno ${checksum}, node ${result.checksum}`);
    if (result.checksum !== checksum) {
      throw new Error("Cannot compare: the two sides read different vectors");
    }
    return result.runs.map((run): IngestRun => ({
      engine: "lancedb table.add (Node)",
      clients: run.concurrency,
      points: run.points,
      seconds: round3(run.seconds),
      vectors_per_second: run.vectors_per_second,
    }));
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/**
 * Runs the ingest benchmark.
 *
 * @param args Flags as in {@linkcode USAGE}.
 * @returns The results (also written to `--out`).
 */
export async function runIngestBenchmark(
  args: readonly string[],
): Promise<Record<string, unknown>> {
  const flags = parseFlags(args, ["points", "clients", "seed", "no-lancedb", "out"]);
  const points = intFlag(flags, "points", 200_000);
  const clientCounts = intListFlag(flags, "clients", [1, 4, 8]);
  const seed = intFlag(flags, "seed", 42);
  const withLance = !flags.has("no-lancedb");
  const out = flags.get("out") ?? "bench/results/ingest.json";
  const vectors = seededVectors(points, DIMENSION, seed);
  const checksum = vectorChecksum(vectors);
  const bodies: string[] = [];
  for (let first = 0; first < points; first += BATCH) {
    const rows = vectors.subarray(first * DIMENSION, Math.min(points, first + BATCH) * DIMENSION);
    bodies.push(upsertBody(rows, DIMENSION, first));
  }
  const bodyBytes = bodies.reduce((sum, body) => sum + body.length, 0);
  console.log(
    `ingest: ${points} × ${DIMENSION} seeded (seed ${seed}) in ${BATCH}-point batches, ` +
      `${(bodyBytes / bodies.length / 1e6).toFixed(2)} MB JSON per batch; client and server ` +
      `share ${navigator.hardwareConcurrency} cores`,
  );
  const graphCount = Math.min(points, 20_000);
  const graphRate = await graphInsertRate(vectors, graphCount);
  console.log(`  graph building alone (in-process, 1 thread, first ${graphCount}): ${graphRate}/s`);
  const runs: IngestRun[] = [];
  for (const clients of clientCounts) {
    const run = await akidbRun(bodies, points, clients, "always");
    console.log(
      `  akidb ${clients} clients: ${run.vectors_per_second} vectors/s (burst ` +
        `${run.burst_vectors_per_second}, sustained ${run.sustained_vectors_per_second})`,
    );
    runs.push(run);
  }
  // LanceDB's local add does not fsync (see the report): the same run without fsync, for parity.
  const most = Math.max(...clientCounts);
  const unsynced = await akidbRun(bodies, points, most, "none");
  console.log(`  akidb ${most} clients, wal sync none: ${unsynced.vectors_per_second} vectors/s`);
  runs.push(unsynced);
  if (withLance) runs.push(...await lancedbRuns(vectors, clientCounts, checksum));
  printTable(
    [
      "engine",
      "clients",
      "points",
      "seconds",
      "vectors/s",
      "burst vectors/s",
      "sustained vectors/s",
      "server CPU s",
    ],
    runs.map((r) => [
      r.engine,
      String(r.clients),
      String(r.points),
      String(r.seconds),
      String(r.vectors_per_second),
      r.burst_vectors_per_second === undefined
        ? ""
        : `${r.burst_vectors_per_second} (first ${r.burst_points})`,
      r.sustained_vectors_per_second === undefined ? "" : String(r.sustained_vectors_per_second),
      r.server_cpu_seconds === undefined ? "" : String(r.server_cpu_seconds),
    ]),
  );
  console.log(
    "AkiDB acknowledges a batch after its WAL record is fsync'd (sync mode always); the graph is " +
      `built in the background, and once ${TAIL_POINTS} points wait for it, batches wait for ` +
      "room (backpressure): the sustained rate is the graph's. LanceDB 0.27.2's local add returns " +
      "once its data file and manifest are renamed into place, with no fsync (strace on this " +
      "machine: no fsync/fdatasync calls), so it survives a process crash but not a power " +
      "loss; compare it with the 'wal sync none' row.",
  );
  const report = {
    benchmark: "ingest",
    dimension: DIMENSION,
    batch_points: BATCH,
    points,
    seed,
    checksum,
    json_bytes_per_batch: Math.round(bodyBytes / bodies.length),
    tail_points_max: TAIL_POINTS,
    graph_inserts_per_second_in_process: graphRate,
    durability: {
      akidb_always: "ack after the batch's WAL record is fsync'd (fdatasync)",
      akidb_none: "ack after write() to the WAL file, no fsync: survives a process crash only",
      lancedb: "table.add on a local directory: data file + manifest published by rename/link, " +
        "no fsync (checked with strace): survives a process crash only",
    },
    runs,
    machine: machineInfo(),
    date: new Date().toISOString(),
  };
  await writeResults(out, report);
  return report;
}

if (import.meta.main) await runAsMain(runIngestBenchmark, USAGE);
