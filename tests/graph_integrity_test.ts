/**
 * Graph invariants after thousands of random upserts, replacements and
 * deletes (hnswlib's checkIntegrity): ids in range, no self-links, no
 * duplicate links, every live node reachable; deleted ids never returned;
 * replaced points found under their new vector. Seeded: SEED= reproduces.
 */

import assert from "node:assert/strict";
import { loadKernel } from "../src/kernel/mod.ts";
import { BruteForceIndex, checkIntegrity, HnswIndex, type PointId } from "../src/index/mod.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";

const kernel = await loadKernel();
const DIMENSION = 24;
const OPERATIONS = 6000;

/** Points around a few centres, so the graph has clusters to keep connected. */
function clusteredVector(random: () => number, centres: Float32Array[]): Float32Array {
  const centre = centres[Math.floor(random() * centres.length)]!;
  const noise = randomVector(random, DIMENSION);
  return centre.map((value, i) => value + 0.15 * noise[i]!);
}

for (const metric of ["l2", "cosine"] as const) {
  Deno.test(`${metric}: invariants hold after random upserts, replacements and deletes`, () => {
    const seed = testSeed(`graph integrity ${metric}`);
    const random = seededRandom(seed);
    const centres = Array.from({ length: 12 }, () => randomVector(random, DIMENSION));
    const index = new HnswIndex(kernel, { dimension: DIMENSION, metric, m: 8, efConstruction: 64 });
    const live = new Map<PointId, Float32Array>();
    const deleted = new Set<PointId>();
    for (let op = 0; op < OPERATIONS; op++) {
      const roll = random();
      const id: PointId = random() < 0.5
        ? Math.floor(random() * 2500)
        : `s${Math.floor(random() * 2500)}`;
      if (roll < 0.8) {
        const vector = clusteredVector(random, centres);
        index.upsert(id, vector);
        live.set(id, index.vector(id)!);
        deleted.delete(id);
      } else {
        assert.equal(index.delete(id), live.has(id));
        live.delete(id);
        deleted.add(id);
      }
    }
    const report = checkIntegrity(index);
    assert.deepEqual(report.problems, [], `SEED=${seed}`);
    assert.equal(report.liveNodes, live.size);
    assert.equal(index.size, live.size);
    assert.ok(report.links > live.size, "the graph has links");

    // Here ~40 % of slots are tombstones in tight clusters, so the frontier is
    // generous; the engine compacts long before that (see docs/KERNEL.md).
    for (const [id, vector] of [...live].slice(0, 200)) {
      const hits = index.search(vector, 10, { efSearch: 400 });
      assert.equal(hits[0]!.id, id, `a point finds itself first (SEED=${seed})`);
      for (const hit of hits) assert.ok(!deleted.has(hit.id), `deleted ${hit.id} returned`);
    }
  });
}

Deno.test("a search never returns tombstones, even when most points are deleted", () => {
  const seed = testSeed("mostly deleted");
  const random = seededRandom(seed);
  const index = new HnswIndex(kernel, { dimension: 8, metric: "l2" });
  const exact = new BruteForceIndex(kernel, { dimension: 8, metric: "l2" });
  for (let i = 0; i < 2000; i++) {
    const v = randomVector(random, 8);
    index.upsert(i, v);
    exact.upsert(i, v);
  }
  for (let i = 0; i < 2000; i++) {
    if (i % 50 !== 0) {
      index.delete(i);
      exact.delete(i);
    }
  }
  for (let q = 0; q < 20; q++) {
    const query = randomVector(random, 8);
    const hits = index.search(query, 10);
    assert.equal(hits.length, 10, "k results while k live points exist");
    for (const hit of hits) assert.equal((hit.id as number) % 50, 0);
    assert.deepEqual(hits.map((h) => h.id).sort(), exact.search(query, 10).map((h) => h.id).sort());
  }
});
