import assert from "node:assert/strict";
import { randomVector, seededRandom, testSeed } from "../../tests/support/seeded_random.ts";
import { l2Squared } from "../index/mod.ts";
import { openEngine, withDataDir } from "./_engine_test_support.ts";

Deno.test("engine: a 1 % selective filter still returns k exact-best results, graph and tail", async () => {
  const seed = testSeed("engine filter");
  const random = seededRandom(seed);
  const dimension = 8;
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension, metric: "l2" });
    const points = Array.from({ length: 3000 }, (_, i) => ({
      id: i,
      vector: randomVector(random, dimension),
      metadata: { group: i % 100, even: i % 2 === 0, nested: { bucket: i % 10 } },
    }));
    await engine.upsert("c", points.slice(0, 2000));
    await engine.collection("c").drainIndex();
    await engine.upsert("c", points.slice(2000)); // these wait in the exact tail
    for (let trial = 0; trial < 5; trial++) {
      const query = randomVector(random, dimension);
      const group = Math.floor(random() * 100);
      const hits = await engine.search("c", {
        vector: query,
        k: 10,
        filter: { must: [{ key: "group", match: group }] },
      });
      const expected = points.filter((p) => p.metadata.group === group)
        .map((p) => ({ id: p.id, distance: l2Squared(query, p.vector) }))
        .sort((a, b) => a.distance - b.distance).slice(0, 10);
      assert.equal(hits.length, 10, `seed ${seed}`);
      assert.deepEqual(hits.map((h) => h.id), expected.map((e) => e.id), `seed ${seed}`);
      for (const hit of hits) assert.equal((hit.metadata as { group: number }).group, group);
    }
    const combined = await engine.search("c", {
      vector: randomVector(random, dimension),
      k: 1000,
      filter: {
        must: [{ key: "nested.bucket", match: { any: [1, 3] } }, {
          key: "group",
          range: { lt: 50 },
        }],
        mustNot: [{ key: "group", match: 11 }],
      },
      includeMetadata: false,
    });
    // bucket 1 or 3 → odd ids; group < 50 and ≠ 11 → 9 groups (1,3,21,...,43) of 30 points each.
    assert.equal(combined.length, 9 * 30);
    assert.ok(combined.every((h) => h.metadata === undefined));
    const none = await engine.search("c", {
      vector: randomVector(random, dimension),
      k: 5,
      filter: { must: [{ key: "group", match: 1000 }] },
    });
    assert.deepEqual(none, []);
    await assert.rejects(
      engine.search("c", {
        vector: randomVector(random, dimension),
        k: 5,
        filter: { must: [{ key: "group", regex: "x" } as never] },
      }),
      TypeError,
    );
    await engine.close();
  });
});

Deno.test("engine: search validates query, k and efSearch", async () => {
  await withDataDir(async (dataDir) => {
    const engine = await openEngine(dataDir);
    await engine.createCollection({ name: "c", dimension: 2, metric: "l2" });
    const vector = new Float32Array([1, 2]);
    await assert.rejects(
      engine.search("c", { vector: new Float32Array(3), k: 1 }),
      /Cannot search: dimension is 3, expected 2/,
    );
    await assert.rejects(engine.search("c", { vector, k: 0 }), RangeError);
    await assert.rejects(engine.search("c", { vector, k: 1001 }), RangeError);
    await assert.rejects(engine.search("c", { vector, k: 1, efSearch: 0 }), RangeError);
    assert.deepEqual(await engine.search("c", { vector, k: 3 }), []);
    await engine.close();
  });
});
