/**
 * Compaction of a live HNSW graph without stopping it. Deleted and replaced
 * points stay in the graph as tombstones (they still guide searches), so a
 * graph that sees many deletes or updates grows in memory and search effort
 * while holding fewer results. A rebuild copies the live points of the graph,
 * slot by slot and in slices, into a fresh graph that nobody searches yet;
 * meanwhile the old graph keeps serving and keeps taking writes, and its owner
 * applies every delete to both. Points appended to the old graph during the
 * rebuild lie ahead of the cursor, so once the cursor reaches the old graph's
 * last slot the fresh graph holds exactly the old one's live points, without
 * tombstones, and the owner swaps it in within the same synchronous step.
 *
 * Vectors are copied as stored (no second normalization), so a compacted
 * graph returns bit for bit the vectors the old one did.
 *
 * @module
 */

import { HnswIndex } from "../index/mod.ts";
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

/**
 * A rebuild in progress: the cursor over the old graph and the fresh graph.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HnswIndex } from "../index/mod.ts";
 * import { loadKernel } from "../kernel/mod.ts";
 * import { GraphRebuild } from "./graph_rebuild.ts";
 * const kernel = await loadKernel();
 * const old = new HnswIndex(kernel, { dimension: 2, metric: "l2" });
 * for (let i = 0; i < 10; i++) old.upsert(i, new Float32Array([i, 1]));
 * for (let i = 0; i < 5; i++) old.delete(i);
 * const rebuild = new GraphRebuild(kernel, old);
 * while (!rebuild.step(performance.now() + 5)) { /* one slice after another *\/ }
 * assert.equal(rebuild.fresh.size, 5);
 * assert.equal(rebuild.fresh.deletedCount, 0);
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
   */
  constructor(kernel: Kernel, source: HnswIndex) {
    this.#source = source;
    this.fresh = new HnswIndex(kernel, source.params);
    this.fresh.reserve(source.size);
  }

  /** Live points copied so far (deletes since included). */
  get copiedCount(): number {
    return this.fresh.size;
  }

  /**
   * Copies live points until `deadlineMs` (at least one slot per call).
   *
   * @param deadlineMs `performance.now()` at which to stop
   * @returns true once every slot of the source has been visited: swap now, before any other
   *   write reaches the source; false when the deadline came first
   */
  step(deadlineMs: number): boolean {
    const segments = this.#source.segments;
    while (true) {
      // Only slots the source holds ids for: the graph worker may be inserting past them.
      const count = this.#source.slotCount(this.#segment);
      if (this.#slot >= count) {
        if (this.#segment >= segments.length - 1) return true;
        this.#segment += 1;
        this.#slot = 0;
        continue;
      }
      const slot = this.#slot;
      this.#slot += 1;
      if (this.#source.slotId(this.#segment, slot) !== undefined) {
        this.fresh.copyPointFrom(this.#source, this.#segment, slot);
      }
      if (performance.now() >= deadlineMs) return false;
    }
  }
}
