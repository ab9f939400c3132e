/**
 * The engine's camelCase objects rendered as the API's snake_case JSON.
 *
 * @module
 */

import type { CollectionInfo, PointRecord, SearchResult } from "../engine/engine_types.ts";
import type { PointId } from "../index/point_id.ts";

/** A collection as JSON. */
export interface CollectionJson {
  readonly collection_id: string;
  readonly name: string;
  readonly dimension: number;
  readonly metric: string;
  readonly hnsw: {
    readonly m: number;
    readonly ef_construction: number;
    readonly ef_search: number;
  };
  readonly vector_count: number;
  readonly tier: string;
  readonly created_at: string;
}

/**
 * Renders a collection.
 *
 * @param info The engine's collection.
 * @returns Its JSON form.
 */
export function renderCollection(info: CollectionInfo): CollectionJson {
  return {
    collection_id: info.collectionId,
    name: info.name,
    dimension: info.dimension,
    metric: info.metric,
    hnsw: {
      m: info.hnsw.m,
      ef_construction: info.hnsw.efConstruction,
      ef_search: info.hnsw.efSearch,
    },
    vector_count: info.vectorCount,
    tier: info.tier,
    created_at: info.createdAt,
  };
}

/**
 * Renders a stored point.
 *
 * @param point The engine's point.
 * @returns `{"id","vector","metadata"}` (metadata `null` when absent).
 */
export function renderPoint(
  point: PointRecord,
): { id: PointId; vector: number[]; metadata: unknown } {
  return { id: point.id, vector: Array.from(point.vector), metadata: point.metadata ?? null };
}

/**
 * Renders a search hit; `metadata` and `vector` only when the engine returned them.
 *
 * @param result The engine's hit.
 * @returns Its JSON form.
 */
export function renderSearchResult(result: SearchResult): Record<string, unknown> {
  const json: Record<string, unknown> = { id: result.id, score: result.score };
  if (result.metadata !== undefined) json.metadata = result.metadata;
  if (result.vector !== undefined) json.vector = Array.from(result.vector);
  return json;
}
