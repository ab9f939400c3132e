import { assertLimits, LIMITS, type Limits } from "./limits.ts";

function ok(condition: boolean, message = "expected true"): void {
  if (!condition) throw new Error(message);
}

function equal(actual: unknown, expected: unknown, context = ""): void {
  ok(Object.is(actual, expected), `${context} expected ${String(expected)}, got ${String(actual)}`);
}

function throws(fn: () => void, pattern: RegExp, context = ""): void {
  try {
    fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ok(pattern.test(message), `${context}: message ${JSON.stringify(message)} !~ ${pattern}`);
    return;
  }
  throw new Error(`${context}: expected a throw`);
}

Deno.test("assertLimits accepts the shipped limits", () => {
  assertLimits();
  assertLimits(LIMITS);
});

Deno.test("LIMITS is frozen, its pattern too", () => {
  ok(Object.isFrozen(LIMITS));
  ok(Object.isFrozen(LIMITS.collectionNamePattern));
  throws(() => {
    (LIMITS as { kMax: number }).kMax = 5;
  }, /read.only|Cannot assign/);
  equal(LIMITS.kMax, 1000);
});

Deno.test("the collection name pattern matches the design contract", () => {
  const accepted = ["a", "A1", "docs_v2", "0-x", "a".repeat(64)];
  const rejected = ["", "_a", "-a", "a b", "a.b", "é", "a".repeat(65), "a/b"];
  for (const name of accepted) equal(LIMITS.collectionNamePattern.test(name), true, name);
  for (const name of rejected) equal(LIMITS.collectionNamePattern.test(name), false, name);
  // A frozen non-global RegExp must stay usable: test() never writes lastIndex.
  equal(LIMITS.collectionNamePattern.test("again"), true);
});

Deno.test("the values the design contract fixes", () => {
  equal(LIMITS.dimensionMin, 1);
  equal(LIMITS.dimensionMax, 4096);
  equal(LIMITS.pointIdBytesMax, 256);
  equal(LIMITS.pointIdIntegerMax, Number.MAX_SAFE_INTEGER);
  equal(LIMITS.metadataBytesMax, 65536);
  equal(LIMITS.mDefault, 16);
  equal(LIMITS.efConstructionDefault, 200);
  equal(LIMITS.efSearchDefault, 64);
  equal(LIMITS.bodyBytesDefault, 32 * 1024 * 1024);
  equal(LIMITS.batchPointsDefault, 10_000);
});

Deno.test("assertLimits names each broken relationship", () => {
  const broken: readonly [Partial<Limits>, RegExp][] = [
    [{ efSearchMax: 999 }, /efSearch|kMax/],
    [{ mDefault: 65 }, /m: 2 <= 65 <= 64/],
    [{ efConstructionMax: 100 }, /efConstruction/],
    [{ bodyBytesMin: 64 * 1024 }, /bodyBytesMin holds one largest point/],
    [{ walSegmentBytesMin: 4096, walSegmentBytesDefault: 4096 }, /walSegmentBytesMin/],
    [{ walPendingBytesMin: 4096 }, /walPendingBytesMin/],
    [{ batchPointsDefault: 0 }, /batchPoints/],
    [{ collectionNameLengthMax: 32 }, /collectionNamePattern/],
    [{ dimensionMax: 4096.5 }, /dimension bounds are integers/],
  ];
  for (const [change, message] of broken) {
    throws(() => assertLimits({ ...LIMITS, ...change }), message, JSON.stringify(change));
  }
});
