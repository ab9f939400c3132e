/**
 * Crash test with real processes: the server runs as a child process, several
 * HTTP writers upsert and delete concurrently, the server is SIGKILLed at a
 * seeded moment, restarted on the same data directory, and every
 * acknowledged write must have survived exactly (vector bits, metadata), every
 * acknowledged delete must have stuck, a write in flight at the kill may be
 * there or not (a batch wholly or not at all), `vector_count` and the LSN
 * recovery reached must agree, search must work, and new writes must work
 * and survive a clean restart.
 *
 * `SEED=<n>` reproduces a run (its trials' seeds derive from it);
 * `SEED=<n> CRASH_TRIAL=<i>` runs trial i alone; `CRASH_TRIALS=<n>` changes
 * how many trials run (default 20). The kill lands at a seeded delay, but
 * which requests are in flight then depends on scheduling, so a rerun
 * replays the same workload, not necessarily the same interleaving.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadKernel, WasmDistanceKernel } from "../src/kernel/mod.ts";
import {
  describe,
  expectations,
  type FoundPoint,
  matches,
  nextOp,
  type Outcome,
  type PointId,
  pointIdPool,
  type PointState,
  type RecordedOp,
  sameVector,
  tornBatches,
  type WorkloadShape,
} from "./support/crash_workload.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";
import { type ServerProcess, startServer } from "./support/server_process.ts";

const TRIAL_COUNT = envInteger("CRASH_TRIALS", 20);
const ONLY_TRIAL = Deno.env.get("CRASH_TRIAL") === undefined
  ? undefined
  : envInteger("CRASH_TRIAL", 0);
const METRICS = ["cosine", "l2", "dot"] as const;
const REQUEST_TIMEOUT_MS = 10_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const READ_CONCURRENCY = 8;

function envInteger(name: string, fallback: number): number {
  const text = Deno.env.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`Cannot use ${name}="${text}": expected a non-negative integer`);
  }
  return value;
}

const kernel = new WasmDistanceKernel(await loadKernel());
const normalize = (vector: Float32Array): Float32Array => {
  const unit = kernel.normalize(vector);
  assert.ok(unit !== undefined, "random vectors are never zero");
  return unit;
};

function pointUrl(base: string, id: PointId): string {
  return `${base}/vectors/${encodeURIComponent(String(id))}`;
}

async function call(url: string, method: string, body?: unknown): Promise<Response> {
  return await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

/** The fields of the API's answers that the test reads. */
interface Answer {
  vector_count: number;
  id: PointId;
  vector: number[];
  metadata: unknown;
  results: { id: PointId; score: number }[];
}

async function json(response: Response, expectedStatus: number, what: string): Promise<Answer> {
  const text = await response.text();
  assert.equal(response.status, expectedStatus, `${what}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as Answer;
}

/** Shared between the writers and the killer. */
interface KillSwitch {
  sent: boolean;
}

/** One writer: issues writes back to back until the kill, recording each outcome. */
async function runWriter(
  base: string,
  shape: WorkloadShape,
  writer: number,
  random: () => number,
  kill: KillSwitch,
): Promise<RecordedOp[]> {
  const recorded: RecordedOp[] = [];
  for (let seq = 0; !kill.sent; seq++) {
    const { op, body } = nextOp(random, shape, normalize, writer, seq);
    const url = op.kind === "delete" ? pointUrl(base, op.id) : `${base}/vectors`;
    let response: Response;
    let text: string;
    const sentAtMs = performance.now();
    try {
      response = await call(url, op.kind === "delete" ? "DELETE" : "POST", body);
      text = await response.text();
    } catch (error) {
      // Only the kill may cut a request off; its write may or may not be durable.
      if (!kill.sent) throw new Error(`Writer ${writer} failed before the kill`, { cause: error });
      recorded.push({ op, outcome: { kind: "unknown" }, sentAtMs });
      break;
    }
    const answeredAtMs = performance.now();
    let outcome: Outcome;
    if (response.status === 200) {
      const answer = JSON.parse(text);
      if (op.kind === "upsert") assert.equal(answer.upserted, op.points.length, text);
      else assert.equal(answer.deleted, true, text);
      assert.ok(Number.isInteger(answer.lsn), text);
      outcome = { kind: "acked", lsn: answer.lsn };
    } else if (op.kind === "delete" && response.status === 404) {
      outcome = { kind: "absent" };
    } else {
      throw new Error(`Writer ${writer}: ${op.kind} answered ${response.status}: ${text}`);
    }
    recorded.push({ op, outcome, sentAtMs, answeredAtMs });
  }
  return recorded;
}

/** Reads every id of the pool back: GET answers 200 with the point or 404. */
async function readAll(base: string, ids: readonly PointId[]): Promise<Map<PointId, FoundPoint>> {
  const found = new Map<PointId, FoundPoint>();
  let next = 0;
  const reader = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const response = await call(pointUrl(base, id), "GET");
      if (response.status === 404) {
        await response.body?.cancel();
        found.set(id, null);
        continue;
      }
      const point = await json(response, 200, `GET point ${JSON.stringify(id)}`);
      assert.deepEqual(point.id, id, "GET returns the id as written (string or number)");
      found.set(id, { vector: point.vector, metadata: point.metadata });
    }
  };
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, reader));
  return found;
}

/** Every acknowledged write survived, nothing else appeared; returns the live count. */
function checkRecovered(
  recorded: readonly RecordedOp[],
  found: Map<PointId, FoundPoint>,
  vectorCount: number,
): { live: number; problems: string[] } {
  const problems: string[] = [];
  const expected = expectations(recorded);
  let live = 0;
  let liveMin = 0;
  let liveMax = 0;
  for (const [id, got] of found) {
    if (got !== null) live++;
    const expectation = expected.get(id) ?? { acked: null, inFlight: [] };
    const allowed: (PointState | null)[] = [expectation.acked, ...expectation.inFlight];
    if (allowed.every((state) => state !== null)) liveMin++;
    if (allowed.some((state) => state !== null)) liveMax++;
    if (allowed.some((state) => matches(state, got))) continue;
    problems.push(
      `point ${JSON.stringify(id)}: found ${describe(got)}; acknowledged state ${
        describe(expectation.acked)
      }` +
        (expectation.inFlight.length === 0
          ? ""
          : `; in flight: ${expectation.inFlight.map(describe).join(" | ")}`),
    );
  }
  if (vectorCount !== live) problems.push(`vector_count is ${vectorCount}, GET finds ${live}`);
  if (vectorCount < liveMin || vectorCount > liveMax) {
    problems.push(`vector_count is ${vectorCount}, expected ${liveMin}..${liveMax}`);
  }
  return { live, problems };
}

/**
 * The LSN recovery reached (from the server's "recovered collection" log line,
 * when it writes one) covers every acknowledged write and goes past it by at
 * most the writes in flight: LSNs are contiguous and only writes take one.
 */
function checkRecoveredLsn(recorded: readonly RecordedOp[], log: string): string[] {
  const line = log.split("\n").find((l) => l.includes('"recovered collection"'));
  if (line === undefined) return [];
  const recoveredLsn = (JSON.parse(line) as { lsn?: unknown }).lsn;
  if (typeof recoveredLsn !== "number") return [];
  let ackedLsnMax = 0;
  for (const { outcome } of recorded) {
    if (outcome.kind === "acked") ackedLsnMax = Math.max(ackedLsnMax, outcome.lsn);
  }
  const inFlight = recorded.filter((r) => r.outcome.kind === "unknown").length;
  if (recoveredLsn >= ackedLsnMax && recoveredLsn <= ackedLsnMax + inFlight) return [];
  return [
    `recovered up to LSN ${recoveredLsn}, expected ${ackedLsnMax}..${ackedLsnMax + inFlight}`,
  ];
}

/** Search answers k results of live points, best first; a stored vector finds its own point. */
async function checkSearch(
  base: string,
  shape: WorkloadShape,
  random: () => number,
  found: Map<PointId, FoundPoint>,
): Promise<void> {
  const present = [...found].filter(([, got]) => got !== null) as [PointId, { vector: number[] }][];
  if (present.length === 0) return;
  const k = Math.min(10, present.length);
  const ascending = shape.metric === "l2";
  const search = async (vector: number[]) => {
    const response = await call(`${base}/search`, "POST", { vector, k, ef: 512 });
    const { results } = await json(response, 200, "search");
    assert.equal(results.length, k, "search returns k results");
    const ids = results.map((r) => r.id);
    assert.equal(new Set(ids).size, k, "no duplicate results");
    for (const id of ids) assert.notEqual(found.get(id) ?? null, null, `result ${id} is live`);
    for (let i = 1; i < k; i++) {
      const [a, b] = [results[i - 1]!.score, results[i]!.score];
      assert.ok(ascending ? a <= b : a >= b, `results best first: ${a}, ${b}`);
    }
    return ids;
  };
  await search(Array.from(randomVector(random, shape.dimension)));
  if (shape.metric === "dot") return; // under dot a point need not be its own best match
  const [id, point] = present[Math.floor(random() * present.length)]!;
  const ids = await search(point.vector);
  assert.ok(ids.includes(id), `searching point ${JSON.stringify(id)}'s vector finds it`);
}

/** After recovery, writes work and survive a clean restart. */
async function checkNewWrites(
  server: ServerProcess,
  base: string,
  shape: WorkloadShape,
  random: () => number,
  liveBefore: number,
): Promise<ServerProcess> {
  const fresh = Array.from({ length: 6 }, (_, i) => ({
    id: `after-restart-${i}`,
    vector: Array.from(randomVector(random, shape.dimension)),
    metadata: { fresh: i },
  }));
  await json(await call(`${base}/vectors`, "POST", { vectors: fresh.slice(0, 5) }), 200, "upsert");
  await json(await call(`${base}/vectors`, "POST", fresh[5]), 200, "single upsert");
  await json(await call(pointUrl(base, fresh[0]!.id), "DELETE"), 200, "delete");
  const { status } = await server.stop(STOP_TIMEOUT_MS);
  assert.equal(status.code, 0, `clean stop after recovery; log:\n${server.log()}`);
  const again = await startServer({ dataDir: server.dataDir, readyTimeoutMs: READY_TIMEOUT_MS });
  const url = `${again.baseUrl}/api/v1/collections/crash`;
  const collection = await json(await call(url, "GET"), 200, "GET collection");
  assert.equal(collection.vector_count, liveBefore + 5, "new writes survive a clean restart");
  const read = await readAll(url, fresh.map((p) => p.id));
  assert.equal(read.get(fresh[0]!.id), null, "the delete after recovery stuck");
  for (const point of fresh.slice(1)) {
    const vector = Float32Array.from(point.vector);
    const state = {
      vector: shape.metric === "cosine" ? normalize(vector) : vector,
      metadata: point.metadata,
    };
    assert.ok(matches(state, read.get(point.id) ?? null), `new point ${point.id} survived`);
  }
  return again;
}

/** One trial: write, SIGKILL at a seeded moment, restart, check. */
async function runTrial(trial: number, trialSeed: number): Promise<string> {
  const random = seededRandom(trialSeed);
  const shape: WorkloadShape = {
    metric: METRICS[trial % METRICS.length]!,
    dimension: 8 + Math.floor(random() * 25),
    ids: pointIdPool(random, 40 + Math.floor(random() * 360)),
  };
  const writerCount = 4 + Math.floor(random() * 5);
  const killDelayMs = 50 + Math.floor(random() * 750);
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-crash-" });
  const servers: ServerProcess[] = [];
  try {
    const first = await startServer({ dataDir, readyTimeoutMs: READY_TIMEOUT_MS });
    servers.push(first);
    const created = await call(`${first.baseUrl}/api/v1/collections`, "POST", {
      name: "crash",
      dimension: shape.dimension,
      metric: shape.metric,
    });
    await json(created, 201, "create collection");
    const base = `${first.baseUrl}/api/v1/collections/crash`;

    const kill: KillSwitch = { sent: false };
    const writers = Array.from(
      { length: writerCount },
      (_, w) => runWriter(base, shape, w, seededRandom(trialSeed ^ (w + 1) * 0x9e3779b1), kill),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const delay = new Promise<void>((resolve) => timer = setTimeout(resolve, killDelayMs));
    // A writer that fails early (before the kill) ends the trial at once.
    await Promise.race([delay, Promise.all(writers)]).finally(() => clearTimeout(timer));
    kill.sent = true;
    first.kill("SIGKILL");
    const killedStatus = await first.exited;
    assert.equal(killedStatus.signal, "SIGKILL", "the server died of the SIGKILL");
    const recorded = (await Promise.all(writers)).flat();

    const second = await startServer({ dataDir, readyTimeoutMs: READY_TIMEOUT_MS });
    servers.push(second);
    const base2 = `${second.baseUrl}/api/v1/collections/crash`;
    const collection = await json(await call(base2, "GET"), 200, "GET collection after restart");
    const found = await readAll(base2, shape.ids);
    const { live, problems } = checkRecovered(recorded, found, collection.vector_count);
    const acked = recorded.filter((r) => r.outcome.kind === "acked").length;
    const inFlight = recorded.filter((r) => r.outcome.kind === "unknown").length;
    const summary = `${shape.metric} dim=${shape.dimension} ids=${shape.ids.length} ` +
      `writers=${writerCount} kill@${killDelayMs}ms: ${acked} acked, ${inFlight} in flight, ` +
      `${live} live after restart`;
    problems.push(...tornBatches(recorded, found));
    problems.push(...checkRecoveredLsn(recorded, second.log()));
    if (problems.length > 0) {
      throw new Error(
        `Recovery lost or invented data (${problems.length} problems; ${summary}):\n  ` +
          problems.slice(0, 20).join("\n  ") + `\nrestarted server's log:\n${second.log()}`,
      );
    }
    await checkSearch(base2, shape, random, found);
    servers.push(await checkNewWrites(second, base2, shape, random, live));
    return summary;
  } finally {
    for (const server of servers) {
      server.kill("SIGKILL");
      await server.exited;
    }
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

Deno.test("crash: SIGKILL during concurrent HTTP writes loses no acknowledged write", async (t) => {
  const runSeed = testSeed("crash test");
  const seeds = seededRandom(runSeed);
  const trialSeeds = Array.from({ length: TRIAL_COUNT }, () => Math.floor(seeds() * 2 ** 32));
  const startMs = performance.now();
  for (const [trial, trialSeed] of trialSeeds.entries()) {
    if (ONLY_TRIAL !== undefined && ONLY_TRIAL !== trial) continue;
    await t.step(`trial ${trial}`, async () => {
      try {
        const summary = await runTrial(trial, trialSeed);
        console.log(`  trial ${trial} (seed ${trialSeed}): ${summary}`);
      } catch (error) {
        throw new Error(
          `Crash trial ${trial} failed (SEED=${runSeed} CRASH_TRIAL=${trial}, trial seed ${trialSeed})`,
          { cause: error },
        );
      }
    });
  }
  console.log(`crash test: ${TRIAL_COUNT} trials in ${Math.round(performance.now() - startMs)} ms`);
});

Deno.test("crash oracle: LSN order, in-flight writes, torn batches, float32 bits", () => {
  const v = (...values: number[]) => Float32Array.from(values);
  const upsert = (id: PointId, x: number, writer = 0) => ({
    kind: "upsert" as const,
    writer,
    single: true,
    points: [{ id, state: { vector: v(x, 1), metadata: { x } } }],
  });
  const got = (x: number) => ({ vector: [x, 1], metadata: { x } });
  // Answers arrive out of LSN order: the higher LSN wins.
  const recorded: RecordedOp[] = [
    { op: upsert("a", 2), outcome: { kind: "acked", lsn: 3 }, sentAtMs: 0, answeredAtMs: 2 },
    { op: upsert("a", 1), outcome: { kind: "acked", lsn: 2 }, sentAtMs: 0, answeredAtMs: 3 },
    { op: { kind: "delete", writer: 1, id: "b" }, outcome: { kind: "unknown" }, sentAtMs: 4 },
  ];
  const expected = expectations(recorded);
  assert.ok(matches(expected.get("a")!.acked, got(2)));
  assert.ok(!matches(expected.get("a")!.acked, got(1)));
  assert.deepEqual(expected.get("b"), { acked: null, inFlight: [null] });

  const batch: RecordedOp = {
    op: {
      kind: "upsert",
      writer: 0,
      single: false,
      points: [...upsert("c", 5).points, ...upsert("d", 6).points],
    },
    outcome: { kind: "unknown" },
    sentAtMs: 10,
  };
  const found = new Map<PointId, FoundPoint>([["c", got(5)], ["d", null]]);
  assert.equal(tornBatches([batch], found).length, 1, "half a batch is torn");
  const deleteD = (answeredAtMs: number): RecordedOp => ({
    op: { kind: "delete", writer: 1, id: "d" },
    outcome: { kind: "acked", lsn: 9 },
    sentAtMs: 5,
    answeredAtMs,
  });
  assert.deepEqual(tornBatches([batch, deleteD(11)], found), [], "a later delete explains it");
  assert.equal(tornBatches([batch, deleteD(9)], found).length, 1, "an earlier one does not");

  const one = Math.fround(0.1);
  const next = new Float32Array(
    new Uint32Array([new Uint32Array(v(one).buffer)[0]! + 1]).buffer,
  )[0]!;
  assert.ok(sameVector(v(one, -0), [one, 0]), "JSON writes -0 as 0");
  assert.ok(!sameVector(v(one), [next]), "one ULP apart");
  assert.ok(sameVector(v(one), [0.1]), "0.1 names the float32 nearest to it");
});
