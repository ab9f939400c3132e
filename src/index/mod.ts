/**
 * Vector indexes over the WASM kernel: HNSW and brute force behind one
 * facade, plus the scalar reference kernel and integrity checks.
 *
 * @module
 */

export { BruteForceIndex, HnswIndex } from "./hnsw_index.ts";
export { type IndexOptions, type IndexParams, VectorIndex } from "./vector_index.ts";
export type { FilterStrategy, SearchHit, SearchOptions } from "./search_segments.ts";
export { formatPointId, type PointId, validatePointId } from "./point_id.ts";
export { checkIntegrity, type IntegrityReport } from "./integrity.ts";
export type { GraphRows } from "./graph_codec.ts";
export { ScalarDistanceKernel } from "./scalar_distance_kernel.ts";
export { cosineDistance, distance, dot, l2Squared, scoreOf } from "./metric_functions.ts";
