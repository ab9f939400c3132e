import assert from "node:assert/strict";
import { randomVector, seededRandom, testSeed } from "../../tests/support/seeded_random.ts";
import { mapError } from "../api/error_map.ts";
import { CapacityError } from "../errors.ts";
import { testKernel } from "./_engine_test_support.ts";
import { loadConfig } from "../config/mod.ts";
import { createLogger } from "../obs/logger.ts";
import { createEngine } from "./mod.ts";
import {
  configureLiveIndexes,
  DEFAULT_LIVE_INDEX_POLICY,
  LiveIndex,
  type LiveIndexOptions,
  TAIL_BYTES_MAX,
} from "./live_index.ts";

const DIMENSION = 8;

async function liveIndex(options: Partial<LiveIndexOptions> = {}): Promise<LiveIndex> {
  return new LiveIndex(await testKernel(), {
    dimension: DIMENSION,
    metric: "l2",
    m: 8,
    efConstruction: 32,
    efSearch: 32,
    ...options,
  });
}

Deno.test("live index: writes wait while the tail is full and are admitted in order", async () => {
  const seed = testSeed("live index admission order");
  const random = seededRandom(seed);
  const index = await liveIndex({ tailPointsMax: 10 });
  try {
    const release = await index.admit(10);
    for (let i = 0; i < 10; i++) index.upsert(i, randomVector(random, DIMENSION));
    release();
    const admitted: number[] = [];
    let pendingAtFirst = -1;
    const first = index.admit(5).then((done) => {
      admitted.push(5);
      pendingAtFirst = index.pendingCount;
      return done;
    });
    const second = index.admit(3).then((done) => {
      admitted.push(3);
      return done;
    });
    // Nothing fits until the graph has taken points out of the tail.
    await Promise.resolve();
    assert.equal(admitted.length, 0);
    (await first)();
    (await second)();
    assert.deepEqual(admitted, [5, 3]);
    assert.ok(pendingAtFirst <= 5, `admitted 5 points with ${pendingAtFirst} in a tail of 10`);
  } finally {
    index.stop();
  }
});

Deno.test("live index: a batch larger than the bound is admitted alone into an empty tail", async () => {
  const index = await liveIndex({ tailPointsMax: 4 });
  try {
    const release = await index.admit(100);
    let second = false;
    const next = index.admit(1).then((done) => {
      second = true;
      return done;
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(second, false, "a second write was admitted next to an oversized one");
    release();
    (await next)();
    assert.equal(second, true);
  } finally {
    index.stop();
  }
});

Deno.test("live index: a write that waits too long fails with 503 index_backpressure", async () => {
  const index = await liveIndex({ tailPointsMax: 4, admitWaitMsMax: 1 });
  try {
    // A reservation that is never given back keeps the tail full without any graph work.
    await index.admit(4);
    const error = await index.admit(1).then(() => undefined, (error: unknown) => error);
    assert.ok(error instanceof CapacityError);
    assert.equal(error.code, "index_backpressure");
    assert.equal(mapError(error).status, 503);
    assert.equal(mapError(error).headers["retry-after"], "1");
  } finally {
    index.stop();
  }
});

Deno.test("live index: stop lets waiting writes through", async () => {
  const index = await liveIndex({ tailPointsMax: 2 });
  await index.admit(2);
  const waiting = index.admit(2);
  index.stop();
  const release = await waiting;
  release();
  // Once stopped, nothing waits.
  (await index.admit(1000))();
});

Deno.test("live index: under a bounded tail every write stays searchable and ends in the graph", async () => {
  const seed = testSeed("live index bounded ingest");
  const random = seededRandom(seed);
  const index = await liveIndex({ tailPointsMax: 50 });
  try {
    const vectors = Array.from({ length: 400 }, () => randomVector(random, DIMENSION));
    let tailMax = 0;
    await Promise.all(Array.from({ length: 4 }, async (_, writer) => {
      for (let first = writer * 100; first < writer * 100 + 100; first += 20) {
        const release = await index.admit(20);
        for (let id = first; id < first + 20; id++) index.upsert(id, vectors[id]!);
        tailMax = Math.max(tailMax, index.pendingCount);
        assert.equal(index.search(vectors[first]!, 1, { efSearch: 64 })[0]?.id, first);
        release();
      }
    }));
    assert.ok(tailMax <= 50, `tail reached ${tailMax} points, bound 50 (SEED=${seed})`);
    await index.drain();
    assert.equal(index.pendingCount, 0);
    assert.equal(index.size, 400);
  } finally {
    index.stop();
  }
});

Deno.test("live index: sustained ingest keeps the tail's dead slots bounded", async () => {
  const seed = testSeed("live index tail slots");
  const random = seededRandom(seed);
  const bound = 100;
  // A small bound: every write waits for the worker, as under real sustained ingest.
  const index = await liveIndex({ tailPointsMax: bound });
  try {
    let slotsMax = 0;
    // The queue never empties while writes keep coming, so the tail never starts afresh by itself.
    for (let first = 0; first < 30_000; first += 50) {
      const release = await index.admit(50);
      for (let id = first; id < first + 50; id++) index.upsert(id, randomVector(random, DIMENSION));
      release();
      slotsMax = Math.max(slotsMax, index.tailSlotCount);
    }
    const limit = 2 * (4096 + 2 * bound);
    assert.ok(slotsMax <= limit, `the tail reached ${slotsMax} slots, expected ≤ ${limit}`);
    await index.drain();
    assert.equal(index.size, 30_000);
    assert.equal(index.tailSlotCount, 0);
  } finally {
    index.stop();
  }
});

Deno.test("live index: the engine's admission policy sets the tail bound and the wait", async () => {
  configureLiveIndexes({
    ...DEFAULT_LIVE_INDEX_POLICY,
    tailBytesMax: 3 * DIMENSION * 4,
    admitWaitMsMax: 1,
  });
  try {
    const index = await liveIndex();
    try {
      assert.equal(index.tailPointsMax, 3);
      await index.admit(3); // never given back: the tail stays full
      const error = await index.admit(1).then(() => undefined, (error: unknown) => error);
      assert.ok(error instanceof CapacityError);
      assert.equal(error.code, "index_backpressure");
    } finally {
      index.stop();
    }
  } finally {
    configureLiveIndexes(DEFAULT_LIVE_INDEX_POLICY);
  }
  const index = await liveIndex();
  assert.equal(index.tailPointsMax, TAIL_BYTES_MAX / (DIMENSION * 4));
  index.stop();
});

Deno.test("engine: [index] tail_max_mib and admit_wait_ms set the admission policy", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-admission-" });
  const config = loadConfig(["--data-dir", dataDir, "--log-level", "error"], {});
  const engine = await createEngine({
    config: { ...config, index: { ...config.index, tailMaxMib: 1, admitWaitMs: 1 } },
    kernel: await testKernel(),
    logger: createLogger({ level: "error" }),
  });
  try {
    const index = await liveIndex({ dimension: 256 });
    assert.equal(index.tailPointsMax, 1024); // 1 MiB of 256-d vectors
    index.stop();
  } finally {
    await engine.close();
    configureLiveIndexes(DEFAULT_LIVE_INDEX_POLICY);
    await Deno.remove(dataDir, { recursive: true });
  }
});
