/**
 * The one interface every ANN engine under benchmark implements, so that `bench/ann.ts` writes
 * its measuring loop once. Adapters: `akidb_engine.ts`, `hnswlib_engine.ts`.
 *
 * @module
 */

/** Metrics the benchmark data sets use. */
export type AnnMetric = "l2" | "cosine";

/** Index parameters shared by every engine. */
export interface AnnBuildParams {
  /** Vector dimension. */
  readonly dim: number;
  /** Distance metric. */
  readonly metric: AnnMetric;
  /** HNSW out-degree on upper layers (layer 0 has m0 = 2·m). */
  readonly m: number;
  /** Candidate list size while building. */
  readonly efConstruction: number;
  /** Seed of the level generator. */
  readonly seed: number;
}

/**
 * An ANN index under benchmark. `Q` is the engine's native query form, produced by
 * {@linkcode AnnEngine.prepareQuery} outside the timed loop (hnswlib-node takes `number[]`).
 */
export interface AnnEngine<Q = unknown> {
  /** Name used in tables and in the JSON results (`akidb`, `hnswlib-node`). */
  readonly name: string;
  /**
   * Builds the index single-threaded from `count` row-major vectors; vector i gets id i.
   * @param vectors `count × dim` float32 values.
   * @param count Number of vectors.
   */
  build(vectors: Float32Array, count: number): void;
  /**
   * Converts a query to the engine's native form (untimed).
   * @param query One query vector (`dim` floats); the engine must not keep a view of it.
   * @returns The native query.
   */
  prepareQuery(query: Float32Array): Q;
  /**
   * Sets the candidate list size of subsequent searches.
   * @param efSearch Search breadth, ≥ k.
   */
  setEfSearch(efSearch: number): void;
  /**
   * Searches the k nearest neighbours.
   * @param query A query from {@linkcode AnnEngine.prepareQuery}.
   * @param k How many neighbours.
   * @returns Vector ids (build row indexes), nearest first.
   */
  search(query: Q, k: number): ArrayLike<number>;
  /**
   * Memory of the built index per vector, in bytes.
   * @returns Bytes per indexed vector.
   */
  bytesPerVector(): number;
  /**
   * How {@linkcode AnnEngine.bytesPerVector} is obtained (measured or modelled, and the formula).
   * @returns One human-readable line.
   */
  memoryNote(): string;
}
