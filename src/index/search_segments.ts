/**
 * Searching a set of segments and merging their top-k, including the choice
 * between a filtered graph search and an exact scan of the allowed points.
 *
 * A filtered graph search walks the whole graph but keeps only allowed
 * points (tombstones filter the same way: only live points qualify); with selectivity s it needs a frontier of about efSearch / s to find
 * as many allowed neighbours as an unfiltered search at efSearch. Its cost is
 * roughly frontier × m distance computations, while an exact scan costs one
 * per allowed point, so the cheaper one is chosen per segment. Whenever a
 * graph search returns fewer than min(k, allowed) points, the exact scan runs
 * instead: a filtered search returns k results whenever k points qualify.
 *
 * @module
 */

import type { SegmentHits, SegmentKernel } from "../kernel/mod.ts";
import type { PointId } from "./point_id.ts";

/** One result: a point and its distance (smaller is closer). */
export interface SearchHit {
  readonly id: PointId;
  readonly distance: number;
}

/** How a filtered search runs: `auto` picks by estimated cost. */
export type FilterStrategy = "auto" | "graph" | "exact";

/** Options of a search. */
export interface SearchOptions {
  /** Frontier size; defaults to the index's efSearch. */
  readonly efSearch?: number;
  /** Only these ids may be returned; unknown ids are ignored. */
  readonly allow?: Iterable<PointId>;
  /** For filtered searches; `auto` unless a test forces one path. */
  readonly filterStrategy?: FilterStrategy;
}

/** Everything one search needs, prepared by the index. */
export interface SegmentSearch {
  readonly segments: readonly SegmentKernel[];
  readonly slotIds: readonly (readonly (PointId | undefined)[])[];
  readonly query: Float32Array;
  readonly k: number;
  readonly efSearch: number;
  /** Per segment, the allowed slots; undefined for an unfiltered search. */
  readonly allowed: readonly (readonly number[])[] | undefined;
  readonly strategy: FilterStrategy;
  readonly m: number;
}

const FRONTIER_MAX = 4096;

/**
 * Runs a search over every segment and merges the results.
 *
 * @param search the prepared search
 * @returns at most k hits, ascending distance
 */
export function searchSegments(search: SegmentSearch): SearchHit[] {
  const merged: SearchHit[] = [];
  for (let s = 0; s < search.segments.length; s++) {
    const segment = search.segments[s]!;
    const allowed = search.allowed?.[s];
    const live = segment.count - segment.deletedCount;
    if (live === 0 || (allowed !== undefined && allowed.length === 0)) continue;
    if (!segment.prepareQuery(search.query)) return []; // a zero query has no cosine neighbours
    const hits = allowed === undefined
      ? searchUnfiltered(segment, search, live)
      : searchFiltered(segment, search, allowed, live);
    const ids = search.slotIds[s]!;
    for (let i = 0; i < hits.slots.length; i++) {
      // A slot another thread has just inserted has no id here yet: its point is still found
      // where its owner keeps it until then (a live index's exact tail).
      const id = ids[hits.slots[i]!];
      if (id !== undefined) merged.push({ id, distance: hits.distances[i]! });
    }
  }
  if (search.segments.length > 1) merged.sort((a, b) => a.distance - b.distance);
  return merged.length > search.k ? merged.slice(0, search.k) : merged;
}

function searchUnfiltered(
  segment: SegmentKernel,
  search: SegmentSearch,
  live: number,
): SegmentHits {
  if (search.strategy === "exact") return segment.searchExact(search.k, false);
  // Tombstones filter like an allow-list of the live slots.
  const frontier = frontierFor(search, live / segment.count);
  if (segment.deletedCount > 0 && live <= frontier * search.m) {
    return segment.searchExact(search.k, false);
  }
  const hits = segment.searchGraph(search.k, frontier, false);
  return hits.slots.length < Math.min(search.k, live) ? segment.searchExact(search.k, false) : hits;
}

/** A frontier that finds about efSearch qualifying points at this selectivity. */
function frontierFor(search: SegmentSearch, selectivity: number): number {
  const wanted = Math.ceil(search.efSearch / Math.min(1, selectivity));
  return Math.min(FRONTIER_MAX, Math.max(search.k, wanted));
}

function searchFiltered(
  segment: SegmentKernel,
  search: SegmentSearch,
  allowed: readonly number[],
  live: number,
): SegmentHits {
  segment.setAllowList(allowed);
  const frontier = frontierFor(search, allowed.length / live);
  const exactIsCheaper = allowed.length <= frontier * search.m;
  if (search.strategy === "exact" || (search.strategy === "auto" && exactIsCheaper)) {
    return segment.searchExact(search.k, true);
  }
  const hits = segment.searchGraph(search.k, frontier, true);
  const wanted = Math.min(search.k, allowed.length);
  return hits.slots.length < wanted ? segment.searchExact(search.k, true) : hits;
}
