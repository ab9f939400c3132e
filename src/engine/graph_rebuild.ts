/**
 * Compaction of a live HNSW graph without stopping it. Deleted and replaced
 * points stay in the graph as tombstones (they still guide searches), so a
 * graph that sees many deletes or updates grows in memory and search effort
 * while holding fewer results. A rebuild copies the live points of the graph,
 * in slot order and in batches (the graph worker inserts them), into a fresh
 * graph that nobody searches yet; meanwhile the old graph keeps serving and
 * keeps taking writes, and its owner applies every delete to both. Points
 * appended to the old graph during the rebuild lie ahead of the cursor, so
 * once the cursor has reached the old graph's last slot, with nothing on its
 * way into the old graph, the fresh graph holds exactly the old one's live
 * points, without tombstones, and the owner swaps it in.
 *
 * Vectors are copied as stored (no second normalization), so a compacted
 * graph returns bit for bit the vectors the old one did.
 *
 * @module
 */

import { HnswIndex, type PointId } from "../index/mod.ts";
import type { Kernel } from "../kernel/mod.ts";

/** Fewest tombstones in a graph before it is worth compacting. */
export const COMPACT_TOMBSTONES_MIN = 1000;

/**
 * Whether a graph should be compacted: at least {@linkcode COMPACT_TOMBSTONES_MIN}
 * tombstones, and at least `ratio` of its slots.
 *
 * @param dead the graph's tombstones
 * @param live its live points
 * @param ratio share of tombstones that triggers a rebuild, in [0, 1]
 * @returns true when a rebuild pays
 */
export function needsCompaction(dead: number, live: number, ratio: number): boolean {
  return dead >= COMPACT_TOMBSTONES_MIN && dead >= ratio * (dead + live);
}

/** Live points of the source taken for copying, in slot order. */
export interface RebuildPoints {
  readonly ids: PointId[];
  /** Segment and slot of each point in the source, in pairs. */
  readonly places: number[];
  /** The stored vectors, row-major: insert them `prepared`, bit for bit. */
  readonly vectors: Float32Array;
}

/**
 * A rebuild in progress: the cursor over the old graph and the fresh graph.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HnswIndex, type PointId } from "../index/mod.ts";
 * import { loadKernel } from "../kernel/mod.ts";
 * import { GraphRebuild } from "./graph_rebuild.ts";
 * const kernel = await loadKernel();
 * const old = new HnswIndex(kernel, { dimension: 2, metric: "l2" });
 * for (let i = 0; i < 10; i++) old.upsert(i, new Float32Array([i, 1]));
 * for (let i = 0; i < 5; i++) old.delete(i);
 * const rebuild = new GraphRebuild(kernel, old);
 * const points = rebuild.take(100)!; // the five live points
 * assert.deepEqual(points.ids, [5, 6, 7, 8, 9]);
 * assert.equal(rebuild.take(100), undefined); // the cursor is at the end
 * assert.equal(rebuild.stillLive(points, 0), true);
 * old.delete(5);
 * assert.equal(rebuild.stillLive(points, 0), false);
 * ```
 */
export class GraphRebuild {
  /** The graph being built; the owner deletes from it whatever it deletes from the old one. */
  readonly fresh: HnswIndex;
  readonly #source: HnswIndex;
  #segment = 0;
  #slot = 0;

  /**
   * @param kernel the compiled kernel
   * @param source the graph to compact; it may keep changing while the rebuild runs
   * @throws CapacityError when there is no memory for the fresh graph
   */
  constructor(kernel: Kernel, source: HnswIndex) {
    this.#source = source;
    this.fresh = new HnswIndex(kernel, source.params);
    this.fresh.reserve(source.size);
  }

  /**
   * Takes the next live points of the source from the cursor: only slots the
   * source has ids for (the graph worker may be inserting past them).
   *
   * @param max most points to take
   * @returns the points, or undefined when the cursor is at the source's end
   */
  take(max: number): RebuildPoints | undefined {
    const source = this.#source;
    const ids: PointId[] = [];
    const places: number[] = [];
    while (ids.length < max) {
      if (this.#slot >= source.slotCount(this.#segment)) {
        if (this.#segment >= source.segments.length - 1) break;
        this.#segment += 1;
        this.#slot = 0;
        continue;
      }
      const id = source.slotId(this.#segment, this.#slot);
      if (id !== undefined) {
        ids.push(id);
        places.push(this.#segment, this.#slot);
      }
      this.#slot += 1;
    }
    if (ids.length === 0) return undefined;
    const dimension = source.params.dimension;
    const vectors = new Float32Array(ids.length * dimension);
    for (let i = 0; i < ids.length; i++) {
      source.segments[places[2 * i]!]!.copyVector(places[2 * i + 1]!, vectors, i * dimension);
    }
    return { ids, places, vectors };
  }

  /**
   * Whether a taken point is still live where it was taken from: when not
   * (deleted or replaced since), its copy must become a tombstone.
   *
   * @param points what {@linkcode take} returned
   * @param i the point's index in it
   * @returns true when the source still holds it there
   */
  stillLive(points: RebuildPoints, i: number): boolean {
    return this.#source.slotId(points.places[2 * i]!, points.places[2 * i + 1]!) === points.ids[i];
  }
}
