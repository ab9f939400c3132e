/**
 * Filtered search on siftsmall: with a seeded random allow-set of 1 % and 10 % of the ids, every
 * query returns k results, all allowed, with recall@10 ≥ 0.95 against brute force restricted to
 * the allowed set. Prints its seed; `SEED=<n>` reproduces a run.
 */

import { ok } from "node:assert/strict";
import { type FilterStrategy, HnswIndex } from "../src/index/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import {
  bruteForceTopK,
  type Dataset,
  datasetDistance,
  readDataset,
  recallAgainst,
  sharedDataAvailable,
  sharedDataPath,
} from "./support/dataset.ts";
import { seededRandom, testSeed } from "./support/seeded_random.ts";

/** Minimum mean recall@10 of filtered search against the restricted brute force. */
const FILTERED_RECALL_AT_10_MIN = 0.95;
const K = 10;
const DEFAULT_PARAMS = { m: 16, efConstruction: 200, efSearch: 64, seed: 42 } as const;

const SEED = testSeed("filtered search");

/** `ok` with the seed in the message, so a failure can be reproduced. */
function check(condition: unknown, message: string): asserts condition {
  ok(condition, `${message} (reproduce with SEED=${SEED})`);
}

/** `size` distinct ids from 0..count-1 (partial Fisher–Yates), ascending. */
function sampleIds(count: number, size: number, random: () => number): number[] {
  const ids = Array.from({ length: count }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (count - i));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids.slice(0, size).sort((a, b) => a - b);
}

/** Searches every query restricted to `allowed`; checks the results; returns mean recall@10. */
function filteredRecall(
  index: HnswIndex,
  dataset: Dataset,
  allowed: readonly number[],
  filterStrategy: FilterStrategy,
): number {
  const allowSet = new Set(allowed);
  const expected = Math.min(K, allowed.length);
  let recallSum = 0;
  for (let q = 0; q < dataset.queryCount; q++) {
    const query = dataset.query(q);
    // Alternate the iterable's form: an array for some queries, a Set for others.
    const allow = q % 2 === 0 ? allowed : allowSet;
    const hits = index.search(query, K, { allow, filterStrategy });
    check(hits.length === expected, `query ${q}: ${hits.length} results, expected ${expected}`);
    const ids = hits.map((hit) => hit.id as number);
    check(new Set(ids).size === ids.length, `query ${q}: duplicate ids ${ids}`);
    for (const id of ids) check(allowSet.has(id), `query ${q}: id ${id} is not in the allow-set`);
    for (let i = 1; i < hits.length; i++) {
      check(hits[i - 1]!.distance <= hits[i]!.distance, `query ${q}: distances not ascending`);
    }
    const exact = bruteForceTopK(dataset, query, expected, allowed);
    recallSum += recallAgainst(
      expected,
      ids,
      exact.ids,
      exact.distances[expected - 1]!,
      (id) => datasetDistance(dataset.metric, query, dataset.vector(id)),
    );
  }
  return recallSum / dataset.queryCount;
}

Deno.test({
  name: "filtered search on siftsmall returns k allowed results with recall@10 ≥ 0.95",
  ignore: !sharedDataAvailable("siftsmall"),
  fn: async (t) => {
    const dataset = await readDataset(sharedDataPath("siftsmall"));
    const index = new HnswIndex(await loadKernel(), {
      dimension: dataset.dim,
      metric: dataset.metric,
      ...DEFAULT_PARAMS,
    });
    index.reserve(dataset.count);
    for (let id = 0; id < dataset.count; id++) index.upsert(id, dataset.vector(id));
    const random = seededRandom(SEED);
    // On 10k points both fractions take the exact scan under "auto"; "graph" forces the filtered
    // graph traversal so that path is held to the same bar.
    const cases = [0.01, 0.1].flatMap((fraction) =>
      (["auto", "graph"] as const).map((strategy) => ({ fraction, strategy }))
    );
    for (const { fraction, strategy } of cases) {
      const allowed = sampleIds(dataset.count, Math.round(dataset.count * fraction), random);
      await t.step(`allow-set of ${fraction * 100} % of the ids, strategy ${strategy}`, () => {
        const recall = filteredRecall(index, dataset, allowed, strategy);
        console.log(`  ${allowed.length} allowed (${strategy}): recall@${K} ${recall.toFixed(4)}`);
        check(
          recall >= FILTERED_RECALL_AT_10_MIN,
          `recall@${K} with ${allowed.length} allowed is ${recall.toFixed(4)}, ` +
            `expected ≥ ${FILTERED_RECALL_AT_10_MIN}`,
        );
      });
    }
    await t.step(`allow-set smaller than k returns exactly the allowed ids`, () => {
      const allowed = sampleIds(dataset.count, K / 2, random);
      const recall = filteredRecall(index, dataset, allowed, "auto");
      check(recall === 1, `recall with ${allowed.length} allowed is ${recall}, expected 1`);
    });
  },
});
