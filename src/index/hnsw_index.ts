/**
 * The two index kinds over one facade ({@linkcode VectorIndex}).
 *
 * @module
 */

import type { Kernel } from "../kernel/mod.ts";
import { decodeIndex } from "./index_codec.ts";
import { decodeGraph, type GraphRows } from "./graph_codec.ts";
import { type IndexOptions, resolveParams, VectorIndex } from "./vector_index.ts";

/**
 * An HNSW index: approximate nearest neighbours through a graph built and
 * searched inside the WASM kernel.
 *
 * @example
 * ```ts
 * import { loadKernel } from "../kernel/mod.ts";
 * import { HnswIndex } from "./hnsw_index.ts";
 * const index = new HnswIndex(await loadKernel(), { dimension: 2, metric: "l2" });
 * index.upsert("a", new Float32Array([0, 0]));
 * index.upsert(7, new Float32Array([3, 4]));
 * const [best] = index.search(new Float32Array([3, 3]), 1);
 * if (best?.id !== 7 || best.distance !== 1) throw new Error("wrong neighbour");
 * ```
 */
export class HnswIndex extends VectorIndex {
  /**
   * @param kernel the compiled kernel
   * @param options dimension, metric and HNSW parameters
   * @throws TypeError for an unknown metric
   * @throws RangeError for a parameter out of range
   */
  constructor(kernel: Kernel, options: IndexOptions) {
    super(kernel, resolveParams(options, true));
  }

  /**
   * Restores an index from {@linkcode VectorIndex.serialize} bytes, graph included.
   *
   * @param kernel the compiled kernel
   * @param bytes the serialized index
   * @returns the index, searchable at once
   * @throws CorruptionError when the bytes are damaged or not an HNSW index
   */
  static load(kernel: Kernel, bytes: Uint8Array): HnswIndex {
    const stored = decodeIndex(bytes);
    return new HnswIndex(kernel, stored.params).restore(stored);
  }

  /**
   * Restores an index from a snapshot's graph and its live rows, without
   * rebuilding the graph.
   *
   * @param kernel the compiled kernel
   * @param graph what {@linkcode VectorIndex.exportGraph} wrote
   * @param rows the live points in the order of {@linkcode VectorIndex.entries}
   * @returns the index, searchable at once
   * @throws CorruptionError when the graph is damaged or does not match the rows
   */
  static loadGraph(kernel: Kernel, graph: Uint8Array, rows: GraphRows): HnswIndex {
    const stored = decodeGraph(graph, rows);
    return new HnswIndex(kernel, stored.params).restore(stored);
  }
}

/**
 * An exact index: vectors in WASM memory, every search a SIMD scan. Used for
 * small collections and as ground truth.
 */
export class BruteForceIndex extends VectorIndex {
  /**
   * @param kernel the compiled kernel
   * @param options dimension and metric (graph parameters are ignored)
   */
  constructor(kernel: Kernel, options: IndexOptions) {
    super(kernel, resolveParams(options, false));
  }

  /**
   * Restores an index from {@linkcode VectorIndex.serialize} bytes.
   *
   * @throws CorruptionError when the bytes are damaged or not a brute-force index
   */
  static load(kernel: Kernel, bytes: Uint8Array): BruteForceIndex {
    const stored = decodeIndex(bytes);
    return new BruteForceIndex(kernel, stored.params).restore(stored);
  }
}
