import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert/strict";
import {
  bruteForceTopK,
  type Dataset,
  datasetDistance,
  limitDataset,
  makeDataset,
  meanRecallAt,
  readDataset,
  recallAgainst,
  recallAt,
  sharedDataAvailable,
  sharedDataPath,
  withinTie,
} from "./dataset.ts";

/** Asserts `|actual − expected| ≤ tolerance`. */
function assertAlmostEquals(actual: number, expected: number, tolerance: number): void {
  ok(
    Math.abs(actual - expected) <= tolerance,
    `expected ${expected} ± ${tolerance}, got ${actual}`,
  );
}

/** A `throws`/`rejects` validator: the error is a `type` whose message contains `text`. */
function errorLike(type: new (...args: never[]) => Error, text: string) {
  return (error: unknown) => {
    ok(error instanceof type, `expected ${type.name}, got ${error}`);
    ok(error.message.includes(text), `message "${error.message}" lacks "${text}"`);
    return true;
  };
}

/** A 1-d data set: base values 0, 1, 1, 3, 7; one query at 0; exact top-4 ground truth. */
function tinyDataset(): Dataset {
  return makeDataset({
    name: "tiny",
    dim: 1,
    metric: "l2",
    base: new Float32Array([0, 1, 1, 3, 7]),
    queries: new Float32Array([0]),
    groundTruth: new Int32Array([0, 1, 2, 3]),
    groundTruthDistances: new Float32Array([0, 1, 1, 3]),
    groundTruthWidth: 4,
  });
}

interface FakeFiles {
  header?: unknown;
  baseBytes?: number;
}

/** Writes a 3 × 2 base, 1 query, width-2 ground truth into a temp dir; returns the header path. */
async function writeFakeDataset(options: FakeFiles = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "akidb-dataset-test-" });
  const header = options.header ?? {
    count: 3,
    dim: 2,
    metric: "l2",
    dtype: "float32",
    file: "fake.f32",
    queries: { file: "fake.queries.f32", count: 1 },
    groundtruth: { file: "fake.gt.i32", k: 2, distances_file: "fake.gt.dist.f32" },
  };
  await Deno.writeTextFile(`${dir}/fake.json`, JSON.stringify(header));
  const base = new Float32Array([0, 0, 3, 4, 1, 0]);
  const baseBytes = new Uint8Array(base.buffer).subarray(0, options.baseBytes ?? 24);
  await Deno.writeFile(`${dir}/fake.f32`, baseBytes);
  await Deno.writeFile(`${dir}/fake.queries.f32`, new Uint8Array(new Float32Array([0, 0]).buffer));
  await Deno.writeFile(`${dir}/fake.gt.i32`, new Uint8Array(new Int32Array([0, 2]).buffer));
  await Deno.writeFile(`${dir}/fake.gt.dist.f32`, new Uint8Array(new Float32Array([0, 1]).buffer));
  return `${dir}/fake.json`;
}

Deno.test("readDataset reads a well-formed set and exposes row views", async () => {
  const path = await writeFakeDataset();
  const ds = await readDataset(path);
  assertEquals([ds.name, ds.count, ds.dim, ds.metric, ds.queryCount], ["fake", 3, 2, "l2", 1]);
  assertEquals(ds.groundTruthWidth, 2);
  assertEquals(Array.from(ds.vector(1)), [3, 4]);
  assertEquals(Array.from(ds.query(0)), [0, 0]);
  assertEquals(Array.from(ds.groundTruth), [0, 2]);
  throws(() => ds.vector(3), errorLike(RangeError, "out of range"));
  throws(() => ds.query(-1), errorLike(RangeError, "out of range"));
  await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
});

Deno.test("readDataset rejects a base file whose size disagrees with the header", async () => {
  const path = await writeFakeDataset({ baseBytes: 20 });
  await rejects(
    () => readDataset(path),
    errorLike(RangeError, "fake.f32 is 20 bytes, expected 24"),
  );
  await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
});

Deno.test("readDataset rejects malformed headers with the offending field", async () => {
  const missingDim = { count: 3, metric: "l2", file: "fake.f32", queries: {}, groundtruth: {} };
  const path = await writeFakeDataset({ header: missingDim });
  await rejects(() => readDataset(path), errorLike(TypeError, `"dim" is undefined`));
  await Deno.writeTextFile(path, JSON.stringify({ ...missingDim, dim: 2, metric: "hamming" }));
  await rejects(() => readDataset(path), errorLike(TypeError, `"metric" is "hamming"`));
  await Deno.writeTextFile(path, "{not json");
  await rejects(() => readDataset(path), errorLike(SyntaxError, "Cannot parse dataset header"));
  await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await rejects(() => readDataset(path), errorLike(Deno.errors.NotFound, ""));
});

Deno.test("makeDataset rejects inconsistent shapes", () => {
  const parts = {
    name: "bad",
    dim: 2,
    metric: "l2" as const,
    base: new Float32Array(4),
    queries: new Float32Array(2),
    groundTruth: new Int32Array(3),
    groundTruthDistances: new Float32Array(3),
    groundTruthWidth: 2,
  };
  throws(() => makeDataset(parts), errorLike(RangeError, "expected 1 × 2 = 2"));
  throws(
    () => makeDataset({ ...parts, base: new Float32Array(3) }),
    errorLike(RangeError, "multiple"),
  );
});

Deno.test("datasetDistance is Euclidean for l2 and 1 - cos for cosine", () => {
  const a = new Float32Array([1, 0]);
  const b = new Float32Array([0, 2]);
  assertAlmostEquals(datasetDistance("l2", a, b), Math.sqrt(5), 1e-12);
  assertAlmostEquals(datasetDistance("cosine", a, b), 1, 1e-12);
  assertAlmostEquals(datasetDistance("cosine", a, new Float32Array([5, 0])), 0, 1e-12);
  assertAlmostEquals(datasetDistance("cosine", a, new Float32Array([-1, 0])), 2, 1e-12);
});

Deno.test("withinTie accepts 1e-5 relative differences and rejects larger ones", () => {
  ok(withinTie(1000.009, 1000));
  ok(!withinTie(1000.02, 1000));
  ok(withinTie(0, 0));
  ok(withinTie(5e-8, 0));
  ok(withinTie(3, 4), "closer than the k-th distance counts");
});

Deno.test("recallAt counts exact hits and ties with the k-th distance", () => {
  const ds = tinyDataset();
  assertEquals(recallAt(2, [0, 1], 0, ds), 1);
  assertEquals(recallAt(2, [0, 2], 0, ds), 1, "row 2 ties with row 1 at distance 1");
  assertEquals(recallAt(2, [0, 3], 0, ds), 0.5);
  assertEquals(recallAt(3, [4, 3], 0, ds), 0, "far rows and missing slots count as misses");
  assertEquals(recallAt(2, [0, 0], 0, ds), 0.5, "a duplicated id counts once");
  assertEquals(recallAt(2, [1, 0, 4], 0, ds), 1, "results beyond k are ignored");
  throws(() => recallAt(5, [0], 0, ds), errorLike(RangeError, "ground truth holds 4"));
  assertEquals(meanRecallAt(2, [[0, 3]], ds), 0.5);
});

Deno.test("recallAgainst uses the caller's distances for ties", () => {
  const distance = (id: number) => (id === 9 ? 2 : 10);
  assertEquals(recallAgainst(2, [9, 1], [1, 2], 2, distance), 1);
  assertEquals(recallAgainst(2, [8, 1], [1, 2], 2, distance), 0.5);
  throws(
    () => recallAgainst(3, [], [1, 2], 2, distance),
    errorLike(RangeError, "2 exact neighbours"),
  );
});

Deno.test("bruteForceTopK orders by distance, then id, and honours candidates", () => {
  const ds = tinyDataset();
  const query = new Float32Array([0]);
  assertEquals(Array.from(bruteForceTopK(ds, query, 3).ids), [0, 1, 2]);
  assertEquals(Array.from(bruteForceTopK(ds, query, 2, [4, 3, 2]).ids), [2, 3]);
  assertEquals(Array.from(bruteForceTopK(ds, query, 10, [4]).distances), [7]);
});

Deno.test("limitDataset recomputes the ground truth over the kept rows", () => {
  const cut = limitDataset(tinyDataset(), 2);
  assertEquals(cut.count, 2);
  assertEquals(cut.groundTruthWidth, 2);
  assertEquals(Array.from(cut.groundTruth), [0, 1]);
  throws(() => limitDataset(tinyDataset(), 6), errorLike(RangeError, "not in 1..5"));
});

Deno.test("sharedDataPath points at the repository's sibling shared/data", () => {
  const path = sharedDataPath("siftsmall");
  ok(path.endsWith("/shared/data/siftsmall/siftsmall.json"), path);
  const repoRoot = decodeURIComponent(new URL("../../", import.meta.url).pathname);
  ok(!path.startsWith(repoRoot), "shared/ is a sibling of the repo, not inside it");
  throws(() => sharedDataPath("../etc"), errorLike(TypeError, "not a plain set name"));
});

Deno.test({
  name: "siftsmall: shipped ground truth agrees with brute force and recall of truth is 1",
  ignore: !sharedDataAvailable("siftsmall"),
  fn: async () => {
    const ds = await readDataset(sharedDataPath("siftsmall"));
    assertEquals([ds.count, ds.dim, ds.queryCount, ds.groundTruthWidth], [10_000, 128, 100, 100]);
    const full = limitDataset(ds, ds.count, 10);
    for (let q = 0; q < ds.queryCount; q++) {
      const shipped = Array.from(ds.groundTruth.subarray(q * 100, q * 100 + 10));
      assertEquals(
        recallAt(10, Array.from(full.groundTruth.subarray(q * 10, q * 10 + 10)), q, ds),
        1,
      );
      assertEquals(recallAt(10, shipped, q, ds), 1);
      const d0 = datasetDistance(ds.metric, ds.query(q), ds.vector(shipped[0]!));
      assertAlmostEquals(d0, ds.groundTruthDistances[q * 100]!, 1e-3);
    }
  },
});
