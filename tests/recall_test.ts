/**
 * Recall of AkiDB's HNSW index against the shipped exact ground truth, at the default parameters
 * (m 16, efConstruction 200, efSearch 64). Recall is tie-aware (`tests/support/dataset.ts`).
 */

import { ok } from "node:assert/strict";
import { HnswIndex } from "../src/index/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import {
  meanRecallAt,
  readDataset,
  sharedDataAvailable,
  sharedDataPath,
} from "./support/dataset.ts";

/** Minimum mean recall@10 at the default parameters on the easy 10k sets. */
const RECALL_AT_10_MIN = 0.95;
const K = 10;
/** DESIGN.md's collection defaults, plus a fixed level seed for reproducible graphs. */
const DEFAULT_PARAMS = { m: 16, efConstruction: 200, efSearch: 64, seed: 42 } as const;

/** Builds an index over the whole set, searches every query with the defaults, returns recall@10. */
async function measureRecall(name: string): Promise<number> {
  const dataset = await readDataset(sharedDataPath(name));
  const index = new HnswIndex(await loadKernel(), {
    dimension: dataset.dim,
    metric: dataset.metric,
    ...DEFAULT_PARAMS,
  });
  const buildStarted = performance.now();
  index.reserve(dataset.count);
  for (let id = 0; id < dataset.count; id++) index.upsert(id, dataset.vector(id));
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  ok(index.size === dataset.count, `index.size is ${index.size}, expected ${dataset.count}`);
  const results: number[][] = [];
  for (let q = 0; q < dataset.queryCount; q++) {
    const hits = index.search(dataset.query(q), K);
    ok(hits.length === K, `query ${q}: ${hits.length} results, expected ${K}`);
    for (let i = 1; i < hits.length; i++) {
      ok(hits[i - 1]!.distance <= hits[i]!.distance, `query ${q}: distances not ascending`);
    }
    results.push(hits.map((hit) => {
      ok(typeof hit.id === "number", `query ${q}: id ${JSON.stringify(hit.id)} not a number`);
      return hit.id;
    }));
  }
  const recall = meanRecallAt(K, results, dataset);
  console.log(
    `${name}: ${dataset.count} × ${dataset.dim} built in ${buildSeconds.toFixed(1)} s; ` +
      `recall@${K} ${recall.toFixed(4)} over ${dataset.queryCount} queries ` +
      `(min ${RECALL_AT_10_MIN}, efSearch ${DEFAULT_PARAMS.efSearch})`,
  );
  return recall;
}

for (const name of ["siftsmall", "mnist-784"]) {
  Deno.test({
    name: `recall@10 on ${name} at default parameters is at least ${RECALL_AT_10_MIN}`,
    ignore: !sharedDataAvailable(name),
    fn: async () => {
      const recall = await measureRecall(name);
      ok(
        recall >= RECALL_AT_10_MIN,
        `recall@${K} on ${name} is ${recall.toFixed(4)}, expected ≥ ${RECALL_AT_10_MIN}`,
      );
    },
  });
}
