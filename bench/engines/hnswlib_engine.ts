/**
 * `hnswlib-node` 3.0 (native C++ hnswlib) behind {@linkcode AnnEngine}. Its binding has no
 * multi-threaded entry point: `addPoint` and `searchKnn` run on the calling thread, so the build
 * and the searches are single-threaded as they stand.
 *
 * @module
 */

import hnswlib from "hnswlib-node";
import type { AnnBuildParams, AnnEngine } from "./ann_engine.ts";

/** Bytes per vector of hnswlib's memory layout, with the formula that produced it. */
export interface HnswlibMemoryModel {
  /** Expected bytes per element. */
  bytesPerVector: number;
  /** Expected number of upper layers per element, Σ_{l≥1} m^−l = 1/(m−1). */
  expectedUpperLevels: number;
  /** The formula with its numbers filled in. */
  formula: string;
}

/**
 * hnswlib's per-element memory from its layout (hnswalg.h): level-0 block = `4·dim` vector bytes +
 * `4·2m + 4` link bytes + 8 label bytes; each upper level l ≥ 1 holds `4·m + 4` link bytes; plus
 * the `linkLists_` pointer (8) and the `element_levels_` entry (4). Levels are drawn as
 * `floor(−ln U · mult)` with `mult = 1/ln m`, so P(level ≥ l) = e^(−l·ln m) = m^−l and the expected
 * level is Σ_{l≥1} m^−l = 1/(m−1). Not counted: `label_lookup_` (a hash map), the per-element
 * `std::mutex` in `link_list_locks_` (40 bytes on glibc), the visited-list pool (2 bytes per
 * element per pool entry) and malloc headers.
 *
 * @param dim Vector dimension.
 * @param m hnswlib's M.
 * @returns The expected bytes per vector and the formula.
 * @example
 * ```ts
 * import { hnswlibMemoryModel } from "./hnswlib_engine.ts";
 * const model = hnswlibMemoryModel(128, 16);
 * if (Math.abs(model.bytesPerVector - (512 + 132 + 8 + 12 + 68 / 15)) > 1e-9) throw new Error();
 * ```
 */
export function hnswlibMemoryModel(dim: number, m: number): HnswlibMemoryModel {
  const level0Bytes = 4 * dim + (4 * 2 * m + 4) + 8;
  const upperLevelBytes = 4 * m + 4;
  const expectedUpperLevels = 1 / (m - 1);
  const bookkeepingBytes = 8 + 4;
  const bytesPerVector = level0Bytes + expectedUpperLevels * upperLevelBytes + bookkeepingBytes;
  const formula = `(4·dim + 8·m + 4 + 8) + E[level]·(4·m + 4) + 8 + 4 ` +
    `with E[level] = Σ_{l≥1} m^-l = 1/(m−1) (mult = 1/ln m) = ` +
    `${level0Bytes} + ${expectedUpperLevels.toFixed(4)}·${upperLevelBytes} + 12 ` +
    `= ${bytesPerVector.toFixed(1)} B (excludes label hash map, per-element mutex, malloc headers)`;
  return { bytesPerVector, expectedUpperLevels, formula };
}

/** {@linkcode AnnEngine} over `hnswlib-node`; queries are `number[]`. */
export class HnswlibEngine implements AnnEngine<number[]> {
  /** Engine name in results. */
  readonly name = "hnswlib-node";
  readonly #params: AnnBuildParams;
  readonly #index: InstanceType<typeof hnswlib.HierarchicalNSW>;

  /**
   * Creates an empty index.
   * @param params Index parameters.
   */
  constructor(params: AnnBuildParams) {
    this.#params = params;
    this.#index = new hnswlib.HierarchicalNSW(params.metric, params.dim);
  }

  /** {@inheritDoc AnnEngine.build} */
  build(vectors: Float32Array, count: number): void {
    const { dim, m, efConstruction, seed } = this.#params;
    this.#index.initIndex(count, m, efConstruction, seed);
    // One reused number[] row: addPoint copies it into native memory.
    const row = new Array<number>(dim).fill(0);
    for (let id = 0; id < count; id++) {
      const offset = id * dim;
      for (let j = 0; j < dim; j++) row[j] = vectors[offset + j]!;
      this.#index.addPoint(row, id);
    }
  }

  /** {@inheritDoc AnnEngine.prepareQuery} */
  prepareQuery(query: Float32Array): number[] {
    return Array.from(query);
  }

  /** {@inheritDoc AnnEngine.setEfSearch} */
  setEfSearch(efSearch: number): void {
    this.#index.setEf(efSearch);
  }

  /** {@inheritDoc AnnEngine.search} */
  search(query: number[], k: number): number[] {
    return this.#index.searchKnn(query, k).neighbors;
  }

  /** {@inheritDoc AnnEngine.bytesPerVector} */
  bytesPerVector(): number {
    return hnswlibMemoryModel(this.#params.dim, this.#params.m).bytesPerVector;
  }

  /** {@inheritDoc AnnEngine.memoryNote} */
  memoryNote(): string {
    return `modelled from hnswlib's layout: ${
      hnswlibMemoryModel(this.#params.dim, this.#params.m).formula
    }`;
  }
}
