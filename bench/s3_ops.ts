/**
 * S3 operations per second against a local S3 server (s3rver under Node, or
 * MinIO via AKIDB_TEST_S3_*), through the same stack the engine uses
 * (`S3ObjectStore` behind `ResilientObjectStore`, and the `UploadQueue`):
 * sequential puts (one at a time), batched puts through the upload queue
 * (`enqueueBatch`, concurrency 8 and 32), parallel heads and parallel gets, of
 * small objects (4 KiB, the size of a manifest). Release bar 500 ops/s,
 * target ≥ 1,000 ops/s batched. Writes `bench/results/s3-ops.json`.
 *
 * Run: `node_modules/.bin/deno run -A bench/s3_ops.ts` (env `S3_BENCH_OPS=2000`).
 *
 * @module
 */

import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import {
  DeadLetterQueue,
  type ObjectKey,
  ResilientObjectStore,
  S3ObjectStore,
  snapshotObjectKey,
  UploadQueue,
} from "../src/storage/objectstore/mod.ts";
import { startS3Server } from "../tests/support/s3_server.ts";
import { cpuSeconds } from "./lib/process_stats.ts";
import { machineInfo, writeResults } from "./lib/report.ts";

const OPS = Number(Deno.env.get("S3_BENCH_OPS") ?? 2000);
const OBJECT_BYTES = 4096;
const COLLECTION = "0192f0a8-6a8e-7c1f-9c1e-0a1b2c3d4e5f";

function keyOf(run: string, i: number): ObjectKey {
  return snapshotObjectKey(COLLECTION, `${run}-${i}`, "manifest.json");
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** This process's CPU seconds (user + system). */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function timed(
  label: string,
  count: number,
  serverPid: number | undefined,
  run: () => Promise<void>,
) {
  const serverCpuBefore = serverPid === undefined ? 0 : await cpuSeconds(serverPid);
  const clientCpuBefore = ownCpuSeconds();
  const startedMs = performance.now();
  await run();
  const seconds = (performance.now() - startedMs) / 1000;
  const clientMs = (ownCpuSeconds() - clientCpuBefore) * 1000 / count;
  const serverMs = serverPid === undefined
    ? undefined
    : (await cpuSeconds(serverPid) - serverCpuBefore) * 1000 / count;
  const opsPerSecond = Math.round(count / seconds);
  console.log(
    `${label.padEnd(36)} ${String(count).padStart(6)} ops  ${opsPerSecond} ops/s  ` +
      `CPU ms/op client ${clientMs.toFixed(2)} server ${serverMs?.toFixed(2) ?? "?"}`,
  );
  return {
    operation: label,
    count,
    seconds: Number(seconds.toFixed(3)),
    ops_per_second: opsPerSecond,
    client_cpu_ms_per_op: Number(clientMs.toFixed(3)),
    ...(serverMs === undefined ? {} : { server_cpu_ms_per_op: Number(serverMs.toFixed(3)) }),
  };
}

const server = await startS3Server("akidb-bench");
try {
  const store = new ResilientObjectStore(
    new S3ObjectStore({
      endpoint: server.endpoint,
      region: "us-east-1",
      bucket: server.bucket,
      prefix: "bench",
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      forcePathStyle: true,
    }),
  );
  const bytes = new Uint8Array(OBJECT_BYTES).fill(7);
  const indexes = Array.from({ length: OPS }, (_, i) => i);
  const seqCount = Math.min(OPS, 300);
  const results = [];
  // Warm-up: s3rver (Node) and the SDK both JIT-compile their hot paths; the first ~1,000
  // operations cost 2–3× the server CPU of later ones, so measure the steady state.
  await pool(indexes, 32, (i) => store.put(keyOf("warm", i), bytes));
  await pool(indexes, 32, async (i) => void await store.head(keyOf("warm", i)));

  results.push(
    await timed("put, sequential", seqCount, server.pid, async () => {
      for (const i of indexes.slice(0, seqCount)) await store.put(keyOf("seq", i), bytes);
    }),
  );
  for (const concurrency of [8, 32]) {
    const queue = new UploadQueue(store, new DeadLetterQueue(new DatabaseSync(":memory:")), {
      concurrency,
    });
    results.push(
      await timed(`put, batched (upload queue, ×${concurrency})`, OPS, server.pid, async () => {
        const outcomes = await queue.enqueueBatch(
          indexes.map((i) => ({
            operation: "put" as const,
            key: keyOf(`q${concurrency}`, i),
            bytes,
          })),
        );
        const failed = outcomes.filter((o) => o.status !== "uploaded").length;
        if (failed > 0) throw new Error(`${failed} uploads failed`);
      }),
    );
    await queue.close();
  }
  results.push(
    await timed("head, parallel ×32", OPS, server.pid, () =>
      pool(indexes, 32, async (i) => {
        if ((await store.head(keyOf("q32", i)))?.sizeBytes !== OBJECT_BYTES) {
          throw new Error("head");
        }
      })),
  );
  results.push(
    await timed("get, parallel ×32", OPS, server.pid, () =>
      pool(indexes, 32, async (i) => {
        if ((await store.get(keyOf("q32", i))).length !== OBJECT_BYTES) throw new Error("get");
      })),
  );
  const batched = results.filter((r) => r.operation.startsWith("put, batched"));
  const best = Math.max(...batched.map((r) => r.ops_per_second));
  console.log(`best batched put: ${best} ops/s (target ≥ 1000, release bar 500)`);
  await writeResults("bench/results/s3-ops.json", {
    benchmark: "s3_ops",
    server: Deno.env.get("AKIDB_TEST_S3_ENDPOINT")
      ? "external (MinIO)"
      : "s3rver 3.7 under Node, 127.0.0.1",
    object_bytes: OBJECT_BYTES,
    results,
    best_batched_put_ops_per_second: best,
    target_ops_per_second: 1000,
    release_bar_ops_per_second: 500,
    machine: machineInfo(),
  });
} finally {
  await server.stop();
}
