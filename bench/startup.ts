/**
 * Startup benchmark: writes N 128-d points (default 1M) through the HTTP API in 1,000-point
 * batches (so N / 1000 WAL records, each fsync'd), stops the server with SIGKILL right after the
 * last acknowledgement (nothing but the WAL survives), restarts it on the same data directory and
 * measures process start → `/ready` (recovery replays every record straight into the HNSW
 * graph). Where the time goes: the same start on an empty data directory (process + module +
 * kernel start), and `WalWriter.open` replaying the WAL alone in this process (read + checksum +
 * decode, no index); the rest is HNSW insertion.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/startup.ts [--points 1000000] [--seed 7]
 *   [--out bench/results/startup.json]
 * ```
 *
 * @module
 */

import { DiskFileIO } from "../src/storage/disk_file_io.ts";
import { listSegments, RecordType, WalWriter } from "../src/storage/wal/mod.ts";
import { seededRandom } from "../tests/support/seeded_random.ts";
import { upsertBody } from "./lib/akidb_client.ts";
import { startBenchServer } from "./lib/bench_server.ts";
import { round3 } from "./lib/latency.ts";
import { rssBytes } from "./lib/process_stats.ts";
import {
  intFlag,
  machineInfo,
  parseFlags,
  printTable,
  runAsMain,
  writeResults,
} from "./lib/report.ts";

const DIMENSION = 128;
const BATCH = 1000;
const COLLECTION = "startup";
const READY_TIMEOUT_MS = 3_600_000;

/** Command-line synopsis. */
export const USAGE =
  `usage: deno run -A bench/startup.ts [--points 1000000] [--seed 7] [--out file.json]`;

/** Writes `points` seeded vectors over HTTP, 2 requests in flight; returns seconds and the WAL dir. */
async function writePoints(dataDir: string, points: number, seed: number) {
  const { server, client } = await startBenchServer(dataDir);
  const created = await client.createCollection({
    name: COLLECTION,
    dimension: DIMENSION,
    metric: "l2",
  }) as {
    collection_id: string;
  };
  const random = seededRandom(seed);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 2 }, async () => {
    while (next < points) {
      const first = next;
      next = Math.min(points, next + BATCH);
      const rows = new Float32Array((next - first) * DIMENSION);
      for (let i = 0; i < rows.length; i++) rows[i] = random() * 2 - 1;
      await client.upsertBody(COLLECTION, upsertBody(rows, DIMENSION, first));
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  // Every batch was acknowledged after its fsync: the WAL alone must bring them all back.
  server.kill("SIGKILL");
  await server.exited;
  return { seconds, walDir: `${dataDir}/collections/${created.collection_id}/wal` };
}

/** Time from spawn to `/ready` on a data directory. */
async function timeStart(dataDir: string) {
  const started = performance.now();
  const { server, client } = await startBenchServer(dataDir, READY_TIMEOUT_MS);
  const seconds = (performance.now() - started) / 1000;
  const rss = await rssBytes(server.pid);
  const collections = await client.call("GET", "/api/v1/collections") as {
    collections: { vector_count: number }[];
  };
  await server.stop(10_000);
  return { seconds, rss, vectorCount: collections.collections[0]?.vector_count ?? 0 };
}

/** Replays the WAL in this process with no index: read, checksum, decode. */
async function timeWalDecode(walDir: string) {
  let records = 0;
  let points = 0;
  const io = new DiskFileIO();
  // Automatic snapshots checkpoint the WAL: replay what is left, from its oldest segment.
  const oldestLsn = Math.min(...(await listSegments(io, walDir)).map((s) => s.firstLsn));
  const started = performance.now();
  const wal = await WalWriter.open(io, walDir, {
    firstLsn: oldestLsn,
    replayAfterLsn: oldestLsn - 1,
    onRecord: (record) => {
      records += 1;
      if (record.type === RecordType.Upsert) points += record.points.length;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const bytes = wal.sizeBytes;
  await wal.close();
  return { seconds, records, points, bytes, oldestLsn };
}

/**
 * Runs the startup benchmark.
 *
 * @param args Flags as in {@linkcode USAGE}.
 * @returns The results (also written to `--out`).
 */
export async function runStartupBenchmark(
  args: readonly string[],
): Promise<Record<string, unknown>> {
  const flags = parseFlags(args, ["points", "seed", "out"]);
  const points = intFlag(flags, "points", 1_000_000);
  const seed = intFlag(flags, "seed", 7);
  const out = flags.get("out") ??
    `bench/results/startup${points === 1_000_000 ? "" : `-${points}`}.json`;
  const emptyDir = await Deno.makeTempDir({ prefix: "akidb-startup-empty-" });
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-startup-" });
  try {
    const empty = await timeStart(emptyDir);
    console.log(`start → /ready, empty data dir: ${empty.seconds.toFixed(2)} s`);
    const write = await writePoints(dataDir, points, seed);
    console.log(
      `wrote ${points} points over HTTP in ${write.seconds.toFixed(1)} s; server SIGKILLed`,
    );
    const decode = await timeWalDecode(write.walDir);
    console.log(`WAL replay alone: ${decode.points} points in ${decode.seconds.toFixed(2)} s`);
    console.log(`restarting on ${points} points (snapshot + WAL replay through the exact tail) …`);
    const restart = await timeStart(dataDir);
    if (restart.vectorCount !== points) {
      throw new Error(`Cannot trust the run: recovered ${restart.vectorCount} of ${points} points`);
    }
    const rows = [
      ["start → /ready, empty data dir", empty.seconds, ""],
      [
        "WAL read + checksum + decode only (in-process)",
        decode.seconds,
        decode.points / decode.seconds,
      ],
      [`start → /ready with ${points} points`, restart.seconds, points / restart.seconds],
    ] as const;
    printTable(
      ["phase", "seconds", "points/s"],
      rows.map((
        [name, s, rate],
      ) => [name, s.toFixed(2), rate === "" ? "" : Math.round(rate).toString()]),
    );
    console.log(
      `${decode.records} WAL records of ${BATCH} points left after checkpoints (from LSN ` +
        `${decode.oldestLsn}), ${(decode.bytes / 1e6).toFixed(0)} MB; the rest was in snapshots. ` +
        `The graph is built in the background after /ready. Target: replay ≥ 500k records/s.`,
    );
    const report = {
      benchmark: "startup",
      dimension: DIMENSION,
      points,
      batch_points: BATCH,
      seed,
      written_via: "HTTP API, 1000-point batches, wal sync always, 2 requests in flight",
      write_seconds: round3(write.seconds),
      wal_records_after_checkpoint: decode.records,
      wal_oldest_lsn: decode.oldestLsn,
      wal_bytes: decode.bytes,
      empty_start_to_ready_seconds: round3(empty.seconds),
      wal_decode_only: {
        seconds: round3(decode.seconds),
        points_per_second: Math.round(decode.points / decode.seconds),
        records_per_second: Math.round(decode.records / decode.seconds),
      },
      start_to_ready_seconds: round3(restart.seconds),
      recovered_points_per_second: Math.round(points / restart.seconds),
      server_rss_bytes_after_recovery: restart.rss,
      machine: machineInfo(),
      date: new Date().toISOString(),
    };
    await writeResults(out, report);
    return report;
  } finally {
    await Deno.remove(emptyDir, { recursive: true }).catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await runAsMain(runStartupBenchmark, USAGE);
