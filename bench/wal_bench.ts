/**
 * WAL benchmark on the real disk: append throughput (one 128-d point per record, concurrent
 * appenders, sync mode `always`) and replay rate of 1M records (`WalWriter.open` with every
 * record handed to a callback: read, CRC32C, decode; the segments are in the page cache, having
 * just been written). Replay runs several times in this process: the first is the one a
 * restarting server pays (nothing compiled yet), the later ones show the steady rate. Prints a
 * table and writes `bench/results/wal.json`.
 *
 * Run: `node_modules/.bin/deno run -A bench/wal_bench.ts` (env `WAL_BENCH_RECORDS` to change 1M,
 * `WAL_BENCH_REPLAYS` to change the 3 replay runs).
 *
 * @module
 */

import { DiskFileIO } from "../src/storage/disk_file_io.ts";
import { RecordType, type SyncMode, type WalEntry, WalWriter } from "../src/storage/wal/mod.ts";

const DIMENSION = 128;
const RECORDS = Number(Deno.env.get("WAL_BENCH_RECORDS") ?? 1_000_000);
const REPLAYS = Number(Deno.env.get("WAL_BENCH_REPLAYS") ?? 3);

interface AppendResult {
  scenario: string;
  appenders: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  fsyncs: number;
  recordsPerFsync: number;
  appendP50Ms: number;
  appendP99Ms: number;
  mbPerSecond: number;
  bytesPerRecord: number;
}

const vectors = Array.from(
  { length: 1024 },
  (_, i) => Float32Array.from({ length: DIMENSION }, (_, j) => Math.sin(i * 131 + j)),
);

function entry(index: number): WalEntry {
  return {
    type: RecordType.Upsert,
    points: [{
      id: index,
      vector: vectors[index % vectors.length]!,
      metadata: `{"n":${index % 1000}}`,
    }],
  };
}

function percentile(sorted: Float64Array, fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

async function appendRun(
  dir: string,
  appenders: number,
  records: number,
  syncMode: SyncMode,
): Promise<AppendResult> {
  let fsyncs = 0;
  const latencies = new Float64Array(records);
  let latencyCount = 0;
  const wal = await WalWriter.open(new DiskFileIO(), dir, {
    syncMode,
    observer: {
      onAppend: (seconds) => void (latencies[latencyCount++] = seconds * 1000),
      onFsync: () => void fsyncs++,
    },
  });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: appenders }, async () => {
    while (next < records) await wal.append(entry(next++));
  }));
  const seconds = (performance.now() - started) / 1000;
  const bytes = wal.sizeBytes;
  await wal.close();
  const sorted = latencies.subarray(0, latencyCount).sort();
  return {
    scenario: `append, sync ${syncMode.kind}`,
    appenders,
    records,
    seconds: round(seconds),
    recordsPerSecond: Math.round(records / seconds),
    fsyncs,
    recordsPerFsync: round(records / Math.max(1, fsyncs)),
    appendP50Ms: round(percentile(sorted, 0.5)),
    appendP99Ms: round(percentile(sorted, 0.99)),
    mbPerSecond: round(bytes / 1e6 / seconds),
    bytesPerRecord: round(bytes / records),
  };
}

interface ReplayResult {
  run: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
}

async function replayRun(dir: string, run: number): Promise<ReplayResult> {
  let count = 0;
  let checksum = 0;
  const started = performance.now();
  const wal = await WalWriter.open(new DiskFileIO(), dir, {
    replayAfterLsn: 0,
    onRecord: (record) => {
      count += 1;
      if (record.type === RecordType.Upsert) checksum += record.points[0]!.vector[0]!;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const bytes = wal.sizeBytes;
  await wal.close();
  if (!Number.isFinite(checksum)) throw new Error("Cannot benchmark replay: bad checksum");
  return {
    run,
    records: count,
    seconds: round(seconds),
    recordsPerSecond: Math.round(count / seconds),
    mbPerSecond: round(bytes / 1e6 / seconds),
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

async function main(): Promise<void> {
  const loadAverageAtStart = Deno.loadavg();
  const root = await Deno.makeTempDir({ prefix: "akidb-wal-bench-" });
  try {
    const appends: AppendResult[] = [];
    for (const appenders of [1, 16]) {
      appends.push(
        await appendRun(`${root}/warm-${appenders}`, appenders, 20_000, { kind: "always" }),
      );
    }
    appends.push(await appendRun(`${root}/main`, 256, RECORDS, { kind: "always" }));
    appends.push(
      await appendRun(`${root}/none`, 256, Math.min(RECORDS, 200_000), { kind: "none" }),
    );
    const replays: ReplayResult[] = [];
    for (let run = 1; run <= REPLAYS; run++) replays.push(await replayRun(`${root}/main`, run));
    console.table(appends);
    console.table(replays.map((replay) => ({ scenario: "replay (read, CRC, decode)", ...replay })));
    const result = {
      benchmark: "wal",
      date: new Date().toISOString(),
      deno: Deno.version.deno,
      os: `${Deno.build.os}-${Deno.build.arch}`,
      dimension: DIMENSION,
      loadAverageAtStart,
      loadAverageAtEnd: Deno.loadavg(),
      appends,
      replays,
    };
    await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
    await Deno.writeTextFile(
      new URL("./results/wal.json", import.meta.url),
      JSON.stringify(result, null, 2) + "\n",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) await main();
