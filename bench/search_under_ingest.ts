/**
 * Search latency under ingest: one server holding the first `--preload` rows of a shared data set
 * (loaded over HTTP and fully indexed), an open-loop search stream at `--rate` req/s measured
 * idle, then again while `--ingest-clients` clients upsert 1,000-point batches of new points as
 * fast as the server acknowledges them (wal sync `always`; bodies serialized before the clock
 * starts; after the last new row they are re-sent as replacements). New points enter the exact
 * tail and are linked into the graph by the background task on the same event loop; the tail is
 * bounded, so once it is full the server holds each batch until graph building has made room
 * (backpressure) and ingest runs at the rate the graph absorbs it.
 *
 * The ingest phase has two parts, each with its own search measurement: a ramp-up of
 * `--ramp-seconds` (the tail fills at full speed: a burst) and then `--seconds` of sustained
 * ingest, whose p99 is compared with idle. The ingest rate of each part is reported with it.
 *
 * ```sh
 * node_modules/.bin/deno run -A bench/search_under_ingest.ts [--dataset glove-100-tail]
 *   [--preload 100000] [--rate 100] [--seconds 20] [--ramp-seconds 5] [--ef 256]
 *   [--ingest-clients 2] [--out bench/results/search-under-ingest.json]
 * ```
 *
 * @module
 */

import { readDataset, sharedDataPath } from "../tests/support/dataset.ts";
import { searchBody, upsertBody } from "./lib/akidb_client.ts";
import { loadVectors, startBenchServer } from "./lib/bench_server.ts";
import { round3, summarize } from "./lib/latency.ts";
import { openLoop, type OpenLoopResult } from "./lib/load.ts";
import { waitCpuIdle } from "./lib/process_stats.ts";
import {
  intFlag,
  machineInfo,
  parseFlags,
  printTable,
  runAsMain,
  writeResults,
} from "./lib/report.ts";

const K = 10;
const BATCH = 1000;
const COLLECTION = "mixed";

/** Command-line synopsis. */
export const USAGE = `usage: deno run -A bench/search_under_ingest.ts [--dataset glove-100-tail]
  [--preload 100000] [--rate 100] [--seconds 20] [--ramp-seconds 5] [--ef 256]
  [--ingest-clients 2] [--out file.json]`;

const FLAGS = [
  "dataset",
  "preload",
  "rate",
  "seconds",
  "ramp-seconds",
  "ef",
  "ingest-clients",
  "out",
];

/**
 * Runs the search-under-ingest benchmark.
 *
 * @param args Flags as in {@linkcode USAGE}.
 * @returns The results (also written to `--out`).
 */
export async function runSearchUnderIngestBenchmark(
  args: readonly string[],
): Promise<Record<string, unknown>> {
  const flags = parseFlags(args, FLAGS);
  const name = flags.get("dataset") ?? "glove-100-tail";
  const rate = intFlag(flags, "rate", 100);
  const seconds = intFlag(flags, "seconds", 20);
  const rampSeconds = intFlag(flags, "ramp-seconds", 5);
  const ef = intFlag(flags, "ef", 256);
  const ingestClients = intFlag(flags, "ingest-clients", 2);
  const out = flags.get("out") ?? "bench/results/search-under-ingest.json";
  const dataset = await readDataset(sharedDataPath(name));
  const preload = Math.min(intFlag(flags, "preload", 100_000), dataset.count - BATCH);
  const dim = dataset.dim;
  console.log(
    `search_under_ingest: ${name}, ${preload} preloaded, search ${rate} req/s open loop ` +
      `(ef ${ef}, k ${K}) for ${seconds} s idle and under ingest by ${ingestClients} clients ` +
      `(after a ${rampSeconds} s ramp-up); ` +
      `client and server share ${navigator.hardwareConcurrency} cores`,
  );
  const { server, client } = await startBenchServer();
  try {
    await client.createCollection({ name: COLLECTION, dimension: dim, metric: dataset.metric });
    const loadSeconds = await loadVectors(
      client,
      COLLECTION,
      dataset.base.subarray(0, preload * dim),
      dim,
      BATCH,
      2,
    );
    const idleMs = await waitCpuIdle(server.pid, 1_800_000);
    console.log(
      `preloaded in ${loadSeconds.toFixed(1)} s, indexed ${(idleMs / 1000).toFixed(1)} s later`,
    );
    const bodies = Array.from(
      { length: dataset.queryCount },
      (_, q) => searchBody(dataset.query(q), K, ef),
    );
    let tookMs: number[] = [];
    const search = async (i: number) => {
      tookMs.push((await client.searchWithTime(COLLECTION, bodies[i % bodies.length]!)).took_ms);
    };
    await openLoop(rate, 2000, search); // warm-up
    tookMs = [];
    const idle = await openLoop(rate, seconds * 1000, search);
    const idleTook = summarize(Float64Array.from(tookMs));
    console.log(`  idle: p99 ${idle.latency.p99Ms} ms`);

    // The rows after the preload, as new ids, serialized before the clock starts so the load
    // generator's event loop stays free; once all are sent, they are sent again (replacements).
    const ingestBodies: string[] = [];
    for (let first = preload; first + BATCH <= dataset.count; first += BATCH) {
      const vectors = dataset.base.subarray(first * dim, (first + BATCH) * dim);
      ingestBodies.push(upsertBody(vectors, dim, first));
    }
    let batchIndex = 0;
    let ingested = 0;
    let ingestErrors = 0;
    let stop = false;
    const ingest = Promise.all(Array.from({ length: ingestClients }, async () => {
      while (!stop) {
        const body = ingestBodies[batchIndex % ingestBodies.length]!;
        batchIndex += 1;
        try {
          await client.upsertBody(COLLECTION, body);
          ingested += BATCH;
        } catch {
          ingestErrors += 1; // e.g. 503 index_backpressure: counted, and the client goes on
        }
      }
    }));
    const rampStarted = performance.now();
    tookMs = [];
    const ramp = await openLoop(rate, rampSeconds * 1000, search);
    const rampTook = summarize(Float64Array.from(tookMs));
    const rampIngested = ingested;
    const rampRate = Math.round(rampIngested / ((performance.now() - rampStarted) / 1000));
    console.log(`  ramp-up: p99 ${ramp.latency.p99Ms} ms, ${rampRate} vectors/s`);
    tookMs = [];
    const busyStarted = performance.now();
    const busy = await openLoop(rate, seconds * 1000, search);
    const busyTook = summarize(Float64Array.from(tookMs));
    const ingestSeconds = (performance.now() - busyStarted) / 1000;
    const sustained = ingested - rampIngested;
    const sustainedRate = Math.round(sustained / ingestSeconds);
    stop = true;
    await ingest;
    console.log(`  under ingest: p99 ${busy.latency.p99Ms} ms, ${sustainedRate} vectors/s`);
    const ratio = busy.latency.p99Ms / idle.latency.p99Ms;
    const row = (label: string, r: OpenLoopResult) => [
      label,
      String(r.achievedPerSecond),
      String(r.latency.p50Ms),
      String(r.latency.p95Ms),
      String(r.latency.p99Ms),
      String(r.latency.maxMs),
      `${r.errors}/${r.dropped}`,
    ];
    printTable([
      "search, open loop",
      "req/s",
      "p50 ms",
      "p95 ms",
      "p99 ms",
      "max ms",
      "errors/dropped",
    ], [
      row("idle", idle),
      row(`ramp-up, tail filling (${rampRate} vectors/s)`, ramp),
      row(`sustained ingest (${sustainedRate} vectors/s)`, busy),
    ]);
    console.log(`p99 under ingest / idle = ${ratio.toFixed(2)} (target ≤ 3)`);
    console.log(
      `server-side took_ms (engine search only, no queueing): idle p50 ${idleTook.p50Ms} / p99 ` +
        `${idleTook.p99Ms} ms; ramp-up p50 ${rampTook.p50Ms} / p99 ${rampTook.p99Ms} ms; ` +
        `under ingest p50 ${busyTook.p50Ms} / p99 ${busyTook.p99Ms} ms. ` +
        `Generator send lag p99: idle ${idle.sendLagP99Ms} ms, under ingest ${busy.sendLagP99Ms} ms`,
    );
    const report = {
      benchmark: "search_under_ingest",
      dataset: name,
      dim,
      metric: dataset.metric,
      preloaded: preload,
      ef,
      k: K,
      rate_per_second: rate,
      seconds,
      ramp_seconds: rampSeconds,
      idle,
      ramp_up: ramp,
      under_ingest: busy,
      server_took_ms: { idle: idleTook, ramp_up: rampTook, under_ingest: busyTook },
      ingest: {
        clients: ingestClients,
        batch_points: BATCH,
        wal_sync_mode: "always",
        ramp_up_points: rampIngested,
        ramp_up_vectors_per_second: rampRate,
        points: sustained,
        distinct_new_points: Math.min(ingested, ingestBodies.length * BATCH),
        seconds: round3(ingestSeconds),
        vectors_per_second: sustainedRate,
        failed_batches: ingestErrors,
      },
      p99_ratio_under_ingest_over_idle: round3(ratio),
      machine: machineInfo(),
      date: new Date().toISOString(),
    };
    await writeResults(out, report);
    return report;
  } finally {
    await server.stop(5_000);
  }
}

if (import.meta.main) await runAsMain(runSearchUnderIngestBenchmark, USAGE);
