/**
 * First-query latency per tier: a collection of N seeded vectors (default
 * 10k × 128 and 100k × 128, env `TIER_BENCH_SIZES`) is demoted to warm, and
 * to cold (against a local s3rver), and the first search after each demotion
 * is timed (it includes the promotion: for cold, downloading the snapshot;
 * then loading the snapshot and replaying the WAL), next to a hot query and
 * the demotions themselves. Checks that the answers match the hot ones.
 * Writes `bench/results/tier-latency.json`.
 *
 * Run: `node_modules/.bin/deno run -A bench/tier_latency.ts`
 *
 * @module
 */

import { randomVector, seededRandom } from "../tests/support/seeded_random.ts";
import { startS3Server } from "../tests/support/s3_server.ts";
import { makePoints, openTierEngine, upsertAll } from "../tests/support/tier_harness.ts";
import { machineInfo, writeResults } from "./lib/report.ts";

const SIZES = (Deno.env.get("TIER_BENCH_SIZES") ?? "10000x128,100000x128").split(",")
  .map((size) => size.split("x").map(Number) as [number, number]);
const SEED = 20261122;

function ms(startedMs: number): number {
  return Number((performance.now() - startedMs).toFixed(1));
}

const server = await startS3Server("akidb-bench");
const results = [];
try {
  for (const [count, dimension] of SIZES) {
    const dir = await Deno.makeTempDir({ prefix: "akidb-tier-bench-" });
    const random = seededRandom(SEED);
    const engine = await openTierEngine(dir, { s3: server });
    await engine.createCollection({ name: "c", dimension, metric: "cosine" });
    let startedMs = performance.now();
    await upsertAll(engine, "c", makePoints(random, count, dimension), 1000);
    await engine.collection("c").drainIndex();
    const ingestMs = ms(startedMs);
    const query = { vector: randomVector(random, dimension), k: 10 };
    const hot = await engine.search("c", query);
    startedMs = performance.now();
    await engine.search("c", query);
    const hotQueryMs = ms(startedMs);

    startedMs = performance.now();
    await engine.demote("c", "warm");
    const demoteWarmMs = ms(startedMs);
    startedMs = performance.now();
    const fromWarm = await engine.search("c", query);
    const firstQueryWarmMs = ms(startedMs);

    startedMs = performance.now();
    await engine.demote("c", "cold"); // hot → warm (snapshot) → verified upload → local files removed
    const demoteColdMs = ms(startedMs);
    startedMs = performance.now();
    const fromCold = await engine.search("c", query);
    const firstQueryColdMs = ms(startedMs);
    const same = JSON.stringify(hot) === JSON.stringify(fromWarm) &&
      JSON.stringify(hot) === JSON.stringify(fromCold);
    if (!same) throw new Error("answers differ after a tier round trip");
    const row = {
      count,
      dimension,
      ingest_ms: ingestMs,
      hot_query_ms: hotQueryMs,
      demote_to_warm_ms: demoteWarmMs,
      first_query_warm_ms: firstQueryWarmMs,
      demote_hot_to_cold_ms: demoteColdMs,
      first_query_cold_ms: firstQueryColdMs,
      answers_identical: same,
    };
    console.log(JSON.stringify(row));
    results.push(row);
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
  await writeResults("bench/results/tier-latency.json", {
    benchmark: "tier_latency",
    s3: "s3rver 3.7 under Node, 127.0.0.1",
    note:
      "first query includes the promotion (cold: download + load; warm: load); HNSW m 16, ef_construction 200",
    results,
    machine: machineInfo(),
  });
} finally {
  await server.stop();
}
