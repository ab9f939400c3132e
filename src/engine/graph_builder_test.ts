import assert from "node:assert/strict";
import { randomVector, seededRandom, testSeed } from "../../tests/support/seeded_random.ts";
import { SegmentKernel, type SegmentParams, type SegmentState } from "../kernel/mod.ts";
import { concatBytes } from "../bytes.ts";
import { CapacityError } from "../errors.ts";
import { testKernel } from "./_engine_test_support.ts";
import { GraphBuilder } from "./graph_builder.ts";

const DIMENSION = 16;

function params(seed: number): SegmentParams {
  return {
    dimension: DIMENSION,
    metric: "cosine",
    m: 8,
    efConstruction: 48,
    listCapacity: 256,
    seed,
    graph: true,
  };
}

function stateBytes(segment: SegmentKernel):
  & { records: Uint8Array; pool: Uint8Array }
  & Omit<
    SegmentState,
    "records" | "pool"
  > {
  const { records, pool, ...counters } = segment.exportState();
  return { ...counters, records: concatBytes(records), pool: concatBytes(pool) };
}

Deno.test("graph builder: a graph built on the worker while this thread searches it is the one built here, bit for bit", async () => {
  const seed = testSeed("graph builder identical graph");
  const random = seededRandom(seed);
  const kernel = await testKernel();
  const count = 3000;
  const vectors = new Float32Array(count * DIMENSION);
  for (let i = 0; i < count; i++) vectors.set(randomVector(random, DIMENSION), i * DIMENSION);

  const here = new SegmentKernel(kernel, params(seed));
  for (let i = 0; i < count; i++) {
    here.insert(vectors.subarray(i * DIMENSION, (i + 1) * DIMENSION));
  }

  const there = new SegmentKernel(kernel, params(seed));
  const builder = GraphBuilder.acquire();
  try {
    let done = false;
    const batches = [
      builder.insert(there, vectors.slice(0, 1000 * DIMENSION), false),
      builder.insert(there, vectors.slice(1000 * DIMENSION), false),
    ];
    const all = Promise.all(batches).then((inserted) => {
      done = true;
      return inserted;
    });
    let searches = 0;
    while (!done) {
      const published = there.count;
      if (published > 0) {
        assert.ok(there.prepareQuery(vectors.subarray(0, DIMENSION)));
        const hits = there.searchGraph(10, 64, false);
        // Every slot a search returns was published before the search ended.
        for (const slot of hits.slots) assert.ok(slot < there.count, `slot ${slot} unpublished`);
        searches += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.deepEqual(await all, [1000, 2000]);
    assert.ok(searches > 0, "no search ran while the worker inserted");
    assert.deepEqual(stateBytes(there), stateBytes(here));
  } finally {
    builder.forget(there);
    GraphBuilder.release();
  }
});

Deno.test("graph builder: a segment that cannot take a whole batch reports how far it got", async () => {
  const kernel = await testKernel();
  const segment = new SegmentKernel(kernel, { ...params(1), dimension: 4 });
  const builder = GraphBuilder.acquire();
  try {
    const vectors = new Float32Array(3 * 4);
    vectors.set([1, 0, 0, 0], 0);
    vectors.set([0, 1, 0, 0], 4); // the third stays zero: no cosine direction
    await assert.rejects(builder.insert(segment, vectors, false), (error: Error) => {
      assert.ok(!(error instanceof CapacityError));
      assert.match(error.message, /zero vector/);
      return true;
    });
    assert.equal(segment.count, 2);
  } finally {
    builder.forget(segment);
    GraphBuilder.release();
  }
});

Deno.test("graph builder: the worker stops with its last user and fails what it had not done", async () => {
  const kernel = await testKernel();
  const segment = new SegmentKernel(kernel, params(2));
  const builder = GraphBuilder.acquire();
  GraphBuilder.release();
  await assert.rejects(
    builder.insert(segment, new Float32Array(DIMENSION).fill(1), false),
    /stopped/,
  );
  // A new user gets a new worker.
  const next = GraphBuilder.acquire();
  try {
    assert.notEqual(next, builder);
    assert.equal(await next.insert(segment, new Float32Array(DIMENSION).fill(1), false), 1);
  } finally {
    next.forget(segment);
    GraphBuilder.release();
  }
});
