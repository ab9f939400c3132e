/**
 * AkiDB's HNSW index (WASM SIMD kernel) behind {@linkcode AnnEngine}.
 *
 * @module
 */

import { HnswIndex } from "../../src/index/mod.ts";
import { loadKernel } from "../../src/kernel/mod.ts";
import type { AnnBuildParams, AnnEngine } from "./ann_engine.ts";

/** Default efSearch of a fresh index; every benchmark run overrides it per query. */
const EF_SEARCH_DEFAULT = 64;

/** {@linkcode AnnEngine} over AkiDB's {@linkcode HnswIndex}; queries are `Float32Array`. */
export class AkidbEngine implements AnnEngine<Float32Array> {
  /** Engine name in results. */
  readonly name = "akidb";
  readonly #params: AnnBuildParams;
  readonly #kernel: Awaited<ReturnType<typeof loadKernel>>;
  #index: HnswIndex | undefined;
  #searchOptions: { efSearch: number } = { efSearch: EF_SEARCH_DEFAULT };

  private constructor(params: AnnBuildParams, kernel: Awaited<ReturnType<typeof loadKernel>>) {
    this.#params = params;
    this.#kernel = kernel;
  }

  /**
   * Loads the WASM kernel (untimed) and returns an engine with no index yet.
   * @param params Index parameters.
   * @returns The engine.
   */
  static async create(params: AnnBuildParams): Promise<AkidbEngine> {
    return new AkidbEngine(params, await loadKernel());
  }

  /** {@inheritDoc AnnEngine.build} */
  build(vectors: Float32Array, count: number): void {
    const { dim, metric, m, efConstruction, seed } = this.#params;
    const index = new HnswIndex(this.#kernel, {
      dimension: dim,
      metric,
      m,
      efConstruction,
      efSearch: EF_SEARCH_DEFAULT,
      seed,
    });
    index.reserve(count);
    for (let id = 0; id < count; id++) {
      index.upsert(id, vectors.subarray(id * dim, (id + 1) * dim));
    }
    this.#index = index;
  }

  /** {@inheritDoc AnnEngine.prepareQuery} */
  prepareQuery(query: Float32Array): Float32Array {
    return query.slice();
  }

  /** {@inheritDoc AnnEngine.setEfSearch} */
  setEfSearch(efSearch: number): void {
    this.#searchOptions = { efSearch };
  }

  /** {@inheritDoc AnnEngine.search} */
  search(query: Float32Array, k: number): number[] {
    const hits = this.#built().search(query, k, this.#searchOptions);
    const ids = new Array<number>(hits.length);
    for (let i = 0; i < hits.length; i++) ids[i] = hits[i]!.id as number;
    return ids;
  }

  /** {@inheritDoc AnnEngine.bytesPerVector} */
  bytesPerVector(): number {
    const index = this.#built();
    return index.memoryBytes / index.size;
  }

  /** {@inheritDoc AnnEngine.memoryNote} */
  memoryNote(): string {
    return "measured: index.memoryBytes (WASM linear memory allocated) / index.size";
  }

  #built(): HnswIndex {
    if (this.#index === undefined) throw new Error("Cannot use the akidb engine: call build first");
    return this.#index;
  }
}
