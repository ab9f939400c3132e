/**
 * Helpers of the snapshot tests: an HNSW index with tombstones, captured the
 * way the engine captures it (graph rows, then tail rows).
 *
 * @module
 */

import { HnswIndex, type PointId } from "../src/index/mod.ts";
import { type Kernel, loadKernel } from "../src/kernel/mod.ts";
import type { SnapshotInput } from "../src/storage/snapshot/mod.ts";
import { randomVector, seededRandom } from "./support/seeded_random.ts";

let kernel: Kernel | undefined;

/** The kernel, loaded once per test process. */
export async function snapshotKernel(): Promise<Kernel> {
  kernel ??= await loadKernel();
  return kernel;
}

/** A captured index and the data it was built from. */
export interface Fixture {
  readonly index: HnswIndex;
  readonly input: SnapshotInput;
  /** Tail rows (not in the graph): id → vector as written. */
  readonly tail: Map<PointId, Float32Array>;
}

/**
 * Builds an index of `count` points (string and integer ids, some metadata),
 * deletes and replaces some (tombstones), and captures it with `tailCount`
 * extra rows that are not in the graph.
 *
 * @param seed the data's seed
 * @param options sizes and metric
 * @returns the index and its capture
 */
export async function buildFixture(
  seed: number,
  options: { count: number; tailCount: number; dimension: number; metric: "cosine" | "l2" | "dot" },
): Promise<Fixture> {
  const random = seededRandom(seed);
  const { count, tailCount, dimension, metric } = options;
  const index = new HnswIndex(await snapshotKernel(), {
    dimension,
    metric,
    m: 8,
    efConstruction: 64,
  });
  const metadata = new Map<PointId, string>();
  const idOf = (i: number): PointId => (i % 2 === 0 ? i : `doc-${i}`);
  for (let i = 0; i < count; i++) {
    index.upsert(idOf(i), randomVector(random, dimension));
    if (i % 3 === 0) metadata.set(idOf(i), JSON.stringify({ i, tag: `t${i % 5}`, ü: "ñ" }));
  }
  for (let i = 0; i < count; i += 7) index.delete(idOf(i)); // tombstones
  for (let i = 1; i < count; i += 11) index.upsert(idOf(i), randomVector(random, dimension));
  const ids: PointId[] = [];
  const vectors: Float32Array[] = [];
  for (const [id, vector] of index.entries()) {
    ids.push(id);
    vectors.push(vector);
  }
  const graphRows = ids.length;
  const tail = new Map<PointId, Float32Array>();
  for (let t = 0; t < tailCount; t++) {
    const id: PointId = t % 2 === 0 ? 1_000_000 + t : `tail-${t}`;
    const vector = randomVector(random, dimension);
    tail.set(id, vector);
    ids.push(id);
    vectors.push(vector);
  }
  const flat = new Float32Array(ids.length * dimension);
  vectors.forEach((vector, row) => flat.set(vector, row * dimension));
  return {
    index,
    tail,
    input: {
      collection: {
        id: "0190a0b0-0000-7000-8000-000000000001",
        name: "snap",
        dimension,
        metric,
        m: 8,
        efConstruction: 64,
        efSearch: 64,
      },
      lsn: 1234,
      graph: index.exportGraph(),
      graphRows,
      rows: { ids, vectors: flat, metadata: ids.map((id) => metadata.get(id)) },
    },
  };
}

/** Bytes of a Float32Array, for bit-exact comparisons. */
export function bitsOf(vector: Float32Array): Uint8Array {
  return new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
}
