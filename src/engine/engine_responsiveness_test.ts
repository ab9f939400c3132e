import assert from "node:assert/strict";
import { randomVector, seededRandom, testSeed } from "../../tests/support/seeded_random.ts";
import { CapacityError } from "../errors.ts";
import { loadConfig } from "../config/mod.ts";
import { createLogger } from "../obs/logger.ts";
import { openEngine, testKernel, withDataDir } from "./_engine_test_support.ts";
import { createEngine } from "./mod.ts";

Deno.test("engine: indexing a large batch leaves the event loop responsive", async () => {
  const seed = testSeed("engine responsiveness");
  const random = seededRandom(seed);
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension: 32, metric: "cosine" });
    const points = Array.from(
      { length: 4000 },
      (_, i) => ({ id: i, vector: randomVector(random, 32) }),
    );
    await engine.upsert("c", points);
    const collection = engine.collection("c");
    assert.ok(collection.pendingIndexCount > 0);
    // Timers must run *between* indexing slices: a tick that sees some but not
    // all points indexed proves the event loop got control mid-drain. (No
    // wall-clock assertion: this holds on a fast machine and a loaded one.)
    const total = collection.pendingIndexCount;
    const seenPending: number[] = [];
    let ticking = true;
    const tick = () => {
      seenPending.push(collection.pendingIndexCount);
      if (ticking) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    await collection.drainIndex();
    ticking = false;
    assert.equal(collection.pendingIndexCount, 0);
    const midDrain = seenPending.filter((pending) => pending > 0 && pending < total);
    assert.ok(midDrain.length > 0, `no timer ran mid-drain (ticks saw ${seenPending.join(",")})`);
    const [hit] = await engine.search("c", { vector: points[123]!.vector, k: 1, efSearch: 200 });
    assert.equal(hit?.id, 123);
    await engine.close();
  });
});

Deno.test("engine: with awaitRecovery false, collections answer 'loading' until recovered", async () => {
  await withDataDir(async (dataDir) => {
    let engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    await engine.upsert("c", [{ id: 1, vector: new Float32Array([1, 2]) }]);
    await engine.close();
    engine = await createEngine({
      config: loadConfig(["--data-dir", dataDir], {}),
      kernel: await testKernel(),
      logger: createLogger({ level: "error", sink: () => {} }),
      awaitRecovery: false,
    });
    assert.equal(engine.readiness().recovered, false);
    assert.throws(() => engine.getCollection("c"), CapacityError);
    await engine.whenRecovered();
    assert.equal(engine.readiness().recovered, true);
    assert.equal(engine.getCollection("c").vectorCount, 1);
    await engine.close();
  });
});
