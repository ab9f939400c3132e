/**
 * A collection's searchable vectors: an HNSW graph plus an exact "unindexed
 * tail". Acknowledged writes go into the tail at once (a `BruteForceIndex`,
 * cheap to insert into, scanned exactly by the SIMD kernel), so they are
 * searchable immediately; they are then sent in batches to the graph worker
 * (`graph_builder.ts`), which links them into the graph on another thread
 * while this one keeps searching the same memory. As the worker publishes each
 * point, this thread gives its slot the id and takes the point out of the
 * tail — or, when the point was deleted or replaced meanwhile, makes the slot
 * a tombstone. Every id is searchable in exactly one of the two structures at
 * any moment (a slot without an id yet is skipped by searches), and a replaced
 * point leaves the graph before its new vector enters the tail, so a search
 * never returns an id twice or with its old vector.
 *
 * The tail is bounded: every search scans it exactly, so a tail that grows
 * without bound (ingest faster than graph building) would make every search
 * slower. Writers call {@linkcode LiveIndex.admit} before logging a batch;
 * while the tail (plus batches admitted but not applied yet) is at its bound,
 * they wait — FIFO, at most `admitWaitMsMax` — until graph building has made
 * room, so ingest is paced at the rate the graph absorbs it. Recovery replays
 * without waiting.
 *
 * Deleted and replaced points leave tombstones in the graph; once they are a
 * large enough share, the graph is rebuilt without them (`graph_rebuild.ts`):
 * the worker inserts the live points into a fresh graph, in batches, while the
 * old one keeps serving.
 *
 * @module
 */

import { CapacityError } from "../errors.ts";
import { BruteForceIndex, HnswIndex, type PointId, type SearchHit } from "../index/mod.ts";
import type { Kernel } from "../kernel/mod.ts";
import { GraphBuilder } from "./graph_builder.ts";
import { GraphRebuild, needsCompaction } from "./graph_rebuild.ts";

/**
 * Default bound on the tail's vectors, in bytes: 16 MiB scans in ≈ 1 ms with the SIMD kernel
 * (measured: 42k 100-d points 0.9 ms, 32k 128-d 0.9 ms, 5.4k 768-d 0.55 ms), about what a graph
 * search costs. Larger tails grow the scan faster than linearly once they leave the CPU cache.
 */
export const TAIL_BYTES_MAX = 16 * 1024 * 1024;

/** Default longest wait of a write for room in the tail before it fails with 503. */
export const ADMIT_WAIT_MS_MAX = 10_000;

/** Default share of tombstones in a graph that starts a rebuild without them. */
export const COMPACT_TOMBSTONE_RATIO = 0.2;

/**
 * How much unindexed data the tails may hold, how long a write waits for
 * room, and when graphs are compacted: process-wide, like the event loop every
 * collection's searches share. The engine sets it from `[index] tail_max_mib`,
 * `admit_wait_ms` and `compact_tombstone_ratio`.
 */
export interface LiveIndexPolicy {
  /** Bound on each tail's vectors, in bytes. */
  readonly tailBytesMax: number;
  /** Longest wait of a write for room before it fails with 503. */
  readonly admitWaitMsMax: number;
  /** Share of tombstones (with at least `COMPACT_TOMBSTONES_MIN`) that starts a rebuild. */
  readonly compactTombstoneRatio: number;
}

/** The policy live indexes get when nobody configured one. */
export const DEFAULT_LIVE_INDEX_POLICY: LiveIndexPolicy = {
  tailBytesMax: TAIL_BYTES_MAX,
  admitWaitMsMax: ADMIT_WAIT_MS_MAX,
  compactTombstoneRatio: COMPACT_TOMBSTONE_RATIO,
};

let policy: LiveIndexPolicy = DEFAULT_LIVE_INDEX_POLICY;

/**
 * Sets the policy of live indexes created from now on.
 *
 * @param next the tail bound, the longest wait and the compaction threshold
 */
export function configureLiveIndexes(next: LiveIndexPolicy): void {
  policy = { ...next };
}

/** Fewest tombstones in the active tail before it is retired (see `#retireDeadSlots`). */
const RETIRE_DEAD_SLOTS_MIN = 4096;

/** Most writes that may wait for room in the tail; beyond, writes fail with 503 at once. */
const ADMIT_WAITERS_MAX = 1024;

/** Points per batch sent to the graph worker: few enough that the tail empties steadily. */
const BUILD_BATCH_POINTS = 128;

/** Parameters of a {@linkcode LiveIndex}. */
export interface LiveIndexOptions {
  readonly dimension: number;
  readonly metric: "cosine" | "l2" | "dot";
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
  /** Bound on points in the tail; default the {@linkcode LiveIndexPolicy}'s bytes of vectors. */
  readonly tailPointsMax?: number;
  /** Longest wait in {@linkcode LiveIndex.admit}; default the {@linkcode LiveIndexPolicy}'s. */
  readonly admitWaitMsMax?: number;
  /** Share of tombstones that starts a rebuild; default the {@linkcode LiveIndexPolicy}'s. */
  readonly compactTombstoneRatio?: number;
}

/** A write waiting for room in the tail. */
interface AdmitWaiter {
  readonly count: number;
  readonly resolve: (release: () => void) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** A batch the graph worker is inserting: moved from the tail, or copied by a compaction. */
interface BuildBatch {
  readonly graph: HnswIndex;
  readonly segment: number;
  /** The slot of the first point: the segment's count when the batch was sent. */
  readonly first: number;
  readonly ids: PointId[];
  /** Whether point i is still the one sent; when not, its slot becomes a tombstone. */
  readonly current: (i: number) => boolean;
  /** Point i now has its slot's id. */
  readonly adopted: (i: number) => void;
  /** Points already given their slot (adopted or discarded). */
  settled: number;
}

/** What {@linkcode LiveIndex.capture} returns. */
export interface LiveCapture {
  /** `graph.bin` bytes. */
  readonly graph: Uint8Array;
  /** The first `graphRows` rows are the graph's live points; the rest are the tail's. */
  readonly graphRows: number;
  readonly ids: PointId[];
  /** `ids.length × dimension` floats: stored vectors for graph rows, written ones for the tail. */
  readonly vectors: Float32Array;
}

/** Options of {@linkcode LiveIndex.search}. */
export interface LiveSearchOptions {
  readonly efSearch?: number | undefined;
  /** Only these ids may be returned. */
  readonly allow?: ReadonlySet<PointId> | undefined;
}

/**
 * HNSW graph + exact tail + the batches the graph worker inserts: points moved from the tail, and
 * compaction's copies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadKernel } from "../kernel/mod.ts";
 * import { LiveIndex } from "./live_index.ts";
 * const index = new LiveIndex(await loadKernel(), {
 *   dimension: 2, metric: "l2", m: 16, efConstruction: 100, efSearch: 64,
 * });
 * index.upsert("a", new Float32Array([0, 0]));
 * assert.equal(index.search(new Float32Array([0, 1]), 1)[0]?.id, "a"); // found in the tail
 * await index.drain();
 * assert.equal(index.pendingCount, 0);
 * assert.equal(index.search(new Float32Array([0, 1]), 1)[0]?.id, "a"); // found in the graph
 * index.stop();
 * ```
 */
export class LiveIndex {
  readonly #kernel: Kernel;
  readonly #options: LiveIndexOptions;
  /** The process's graph worker, acquired once the index is made; released by `stop()`. */
  readonly #builder: GraphBuilder;
  #graph: HnswIndex;
  /** The batch of points moving from the tail; one at a time. */
  #moving: BuildBatch | undefined;
  /** The batch of points a compaction is copying; one at a time. */
  #copying: BuildBatch | undefined;
  /** Why the worker could not build; points stay in the tail from then on. */
  #buildFailure: Error | undefined;
  /** The rebuild's cursor has reached the graph's end: no batch moves into it until the swap. */
  #swapDue = false;
  /** A compaction in progress: a fresh graph nobody searches until it is complete. */
  #rebuild: GraphRebuild | undefined;
  #compactionCount = 0;
  /** After a rebuild ran out of memory: tombstones needed before the next attempt. */
  #compactRetryTombstones = 0;
  /** The tail new writes go to. */
  #tail: BruteForceIndex;
  /**
   * A retired tail still being drained into the graph: under sustained ingest the queue never
   * empties, so instead of collecting tombstones forever the tail is retired once most of its
   * slots are dead, and dropped once its last live point has moved.
   */
  #retired: BruteForceIndex | undefined;
  /** Ids waiting to move into the graph, FIFO from `#queueHead`; stale ids are skipped. */
  #queue: PointId[] = [];
  /**
   * The vector as written of each point in the tail. The graph gets this one, not the tail's
   * (normalized) copy, so a moved point holds exactly the bits a WAL replay would give it.
   */
  readonly #written = new Map<PointId, Float32Array>();
  #queueHead = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #drainWaiters: (() => void)[] = [];
  #settleWaiters: (() => void)[] = [];
  readonly #tailPointsMax: number;
  readonly #admitWaitMsMax: number;
  readonly #compactTombstoneRatio: number;
  /** Points of batches admitted but not yet in the tail. */
  #reservedCount = 0;
  #admitWaiters: AdmitWaiter[] = [];

  /**
   * @param kernel the compiled kernel
   * @param options dimension, metric, HNSW parameters, tail bound, admission wait, compaction ratio
   * @param graph a graph to start from (a restored snapshot's); default an empty one
   * @throws RangeError / TypeError for a parameter out of range
   */
  constructor(kernel: Kernel, options: LiveIndexOptions, graph?: HnswIndex) {
    this.#kernel = kernel;
    this.#options = options;
    this.#graph = graph ?? new HnswIndex(kernel, options);
    this.#tail = this.#newTail();
    this.#tailPointsMax = options.tailPointsMax ??
      Math.max(1, Math.floor(policy.tailBytesMax / (options.dimension * 4)));
    this.#admitWaitMsMax = options.admitWaitMsMax ?? policy.admitWaitMsMax;
    this.#compactTombstoneRatio = options.compactTombstoneRatio ?? policy.compactTombstoneRatio;
    this.#builder = GraphBuilder.acquire(); // last: nothing above may throw with it held
    this.#maybeCompact(); // a restored graph may hold many tombstones
  }

  /**
   * A point-in-time copy for a snapshot, taken synchronously (nothing can
   * change it meanwhile): the graph's bytes, then its live points in
   * `entries()` order, then the tail's points with their vectors as written.
   * The worker is held between two inserts while it is taken.
   *
   * @returns graph bytes, ids and vectors (row-major), and how many rows are the graph's
   */
  capture(): LiveCapture {
    const moving = this.#moving;
    const writing = moving?.graph.segments[moving.segment];
    writing?.lock();
    try {
      if (moving !== undefined) this.#settle(moving);
      const dimension = this.#options.dimension;
      const graph = this.#graph.exportGraph();
      const ids: PointId[] = [];
      const vectors = new Float32Array((this.#graph.size + this.#written.size) * dimension);
      this.#graph.copyEntriesInto(vectors, 0, ids);
      const graphRows = ids.length;
      for (const [id, vector] of this.#written) {
        vectors.set(vector, ids.length * dimension);
        ids.push(id);
      }
      return { graph, graphRows, ids, vectors };
    } finally {
      writing?.unlock();
    }
  }

  /** Live points, graph and tail together. */
  get size(): number {
    return this.#graph.size + this.pendingCount;
  }

  /** Points acknowledged but not yet in the graph. */
  get pendingCount(): number {
    return this.#tail.size + (this.#retired?.size ?? 0);
  }

  /** Slots of the exact tail, live and tombstoned: what every search scans. */
  get tailSlotCount(): number {
    const slots = (tail: BruteForceIndex | undefined) =>
      tail === undefined ? 0 : tail.size + tail.deletedCount;
    return slots(this.#tail) + slots(this.#retired);
  }

  /** Tombstoned slots in the serving graph. */
  get graphTombstones(): number {
    return this.#graph.deletedCount;
  }

  /** Whether a compaction is running. */
  get compacting(): boolean {
    return this.#rebuild !== undefined;
  }

  /** Compactions finished since this index was made. */
  get compactionCount(): number {
    return this.#compactionCount;
  }

  /** Bound on points in the tail (writes beyond it wait in {@linkcode admit}). */
  get tailPointsMax(): number {
    return this.#tailPointsMax;
  }

  /**
   * Waits for room for `count` points in the tail and reserves it. Room is
   * there when the tail plus the reserved points plus `count` stay within the
   * bound, or when both are empty (a batch larger than the bound is admitted
   * alone). Waiters are served in order. Call the returned function once the
   * points are applied (or the write failed) to give the reservation back.
   *
   * @param count points in the batch
   * @returns resolves with the release function once admitted
   * @throws {CapacityError} 503 `index_backpressure` when the wait exceeds `admitWaitMsMax` or
   *   too many writes already wait
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { loadKernel } from "../kernel/mod.ts";
   * import { LiveIndex } from "./live_index.ts";
   * const index = new LiveIndex(await loadKernel(), {
   *   dimension: 2, metric: "l2", m: 16, efConstruction: 100, efSearch: 64, tailPointsMax: 1,
   * });
   * const release = await index.admit(1);
   * index.upsert("a", new Float32Array([0, 0]));
   * release();
   * const waiting = index.admit(1); // the tail is full until the graph takes "a"
   * (await waiting)();
   * assert.equal(index.pendingCount, 0);
   * index.stop();
   * ```
   */
  admit(count: number): Promise<() => void> {
    if (this.#stopped || (this.#admitWaiters.length === 0 && this.#fits(count))) {
      return Promise.resolve(this.#reserve(count));
    }
    if (this.#admitWaiters.length >= ADMIT_WAITERS_MAX) {
      return Promise.reject(this.#backpressure(`${this.#admitWaiters.length} writes already wait`));
    }
    const waitMs = this.#admitWaitMsMax;
    return new Promise((resolve, reject) => {
      const waiter: AdmitWaiter = {
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#admitWaiters = this.#admitWaiters.filter((other) => other !== waiter);
          reject(this.#backpressure(`no room after ${waitMs} ms`));
          this.#admitWaiting(); // the next waiter may fit now
        }, waitMs),
      };
      this.#admitWaiters.push(waiter);
    });
  }

  /** Bytes of WASM memory held by the graph and the tail. */
  get memoryBytes(): number {
    return this.#graph.memoryBytes + this.#tail.memoryBytes + (this.#retired?.memoryBytes ?? 0) +
      (this.#rebuild?.fresh.memoryBytes ?? 0);
  }

  /**
   * Inserts or replaces a point through the tail: searchable at once, moved
   * into the graph later. The vector must already be validated.
   *
   * @param id the point's id
   * @param vector its vector
   */
  upsert(id: PointId, vector: Float32Array): void {
    if (this.#graph.delete(id)) this.#afterGraphDelete(id);
    this.#retired?.delete(id);
    this.#tail.upsert(id, vector);
    this.#written.set(id, vector);
    this.#queue.push(id);
    this.#schedule();
  }

  /**
   * Removes a point from wherever it is.
   *
   * @param id the point's id
   * @returns true when it existed
   */
  delete(id: PointId): boolean {
    this.#written.delete(id);
    if (this.#graph.delete(id)) {
      this.#afterGraphDelete(id);
      return true;
    }
    const deleted = this.#tail.delete(id) || (this.#retired?.delete(id) ?? false);
    this.#admitWaiting();
    return deleted;
  }

  /** Whether a point with this id is live. */
  has(id: PointId): boolean {
    return this.#graph.has(id) || this.#tail.has(id) || (this.#retired?.has(id) ?? false);
  }

  /**
   * A copy of a point's stored vector (unit length under cosine).
   *
   * @param id the point's id
   * @returns the vector, or undefined when absent
   */
  vector(id: PointId): Float32Array | undefined {
    return this.#tail.vector(id) ?? this.#retired?.vector(id) ?? this.#graph.vector(id);
  }

  /**
   * The k nearest live points over graph and tail, ascending distance.
   *
   * @param query the query vector
   * @param k results wanted
   * @param options efSearch and an allow-set
   * @returns at most k hits; exactly min(k, allowed live points) with an allow-set
   * @throws RangeError for a bad query, k or efSearch
   */
  search(query: Float32Array, k: number, options: LiveSearchOptions = {}): SearchHit[] {
    const indexOptions = {
      ...(options.efSearch === undefined ? {} : { efSearch: options.efSearch }),
      ...(options.allow === undefined ? {} : { allow: options.allow }),
    };
    // The tail always runs first: it validates query, k and efSearch even when empty.
    let tailHits = this.#tail.search(query, k, indexOptions);
    if (this.#retired !== undefined && this.#retired.size > 0) {
      tailHits = mergeHits(tailHits, this.#retired.search(query, k, indexOptions), k);
    }
    if (this.#graph.size === 0) return tailHits;
    const graphHits = this.#graph.search(query, k, indexOptions);
    if (tailHits.length === 0) return graphHits;
    return mergeHits(graphHits, tailHits, k);
  }

  /**
   * Waits until every point written so far is in the graph.
   *
   * @returns resolves when the tail is empty (at once if it already is, or once stopped)
   */
  drain(): Promise<void> {
    if (this.pendingCount === 0 || this.#stopped || this.#buildFailure) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * Waits until the background task has nothing left to do: every point in the
   * graph and no compaction running.
   *
   * @returns resolves once idle (at once if it already is, or once stopped)
   */
  settle(): Promise<void> {
    if (this.#stopped || this.#buildFailure || this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#settleWaiters.push(resolve));
  }

  /**
   * Stops the background task; the tail stays searchable. Writes waiting for
   * room are let through: the index is being replaced or closed.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#dropRebuild();
    for (const segment of this.#graph.segments) this.#builder.forget(segment);
    GraphBuilder.release();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#drainWaiters = wakeAll(this.#drainWaiters);
    this.#settleWaiters = wakeAll(this.#settleWaiters);
    this.#admitWaiting();
  }

  #fits(count: number): boolean {
    const used = this.pendingCount + this.#reservedCount;
    return used === 0 || used + count <= this.#tailPointsMax;
  }

  #reserve(count: number): () => void {
    this.#reservedCount += count;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reservedCount -= count;
      this.#admitWaiting();
    };
  }

  /** Admits waiting writes, in order, while they fit. */
  #admitWaiting(): void {
    while (this.#admitWaiters.length > 0) {
      const waiter = this.#admitWaiters[0]!;
      if (!this.#stopped && !this.#fits(waiter.count)) return;
      this.#admitWaiters.shift();
      clearTimeout(waiter.timer);
      waiter.resolve(this.#reserve(waiter.count));
    }
  }

  #backpressure(detail: string): CapacityError {
    return new CapacityError(
      `Cannot upsert: the index is building its graph, ${this.pendingCount} points wait in the ` +
        `exact tail (bound ${this.#tailPointsMax}): ${detail}; retry later`,
      { code: "index_backpressure" },
    );
  }

  #newTail(): BruteForceIndex {
    return new BruteForceIndex(this.#kernel, {
      dimension: this.#options.dimension,
      metric: this.#options.metric,
    });
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sendWork();
    }, 0);
  }

  /** Nothing left to do: every point in the graph and no compaction running. */
  #idle(): boolean {
    return this.pendingCount === 0 && this.#moving === undefined && this.#rebuild === undefined;
  }

  /** Sends the worker what it can take now: a batch of moves and a batch of copies. */
  #sendWork(): void {
    if (this.#stopped || this.#buildFailure) return;
    this.#sendMoves();
    this.#sendCopies();
    if (this.#idle()) this.#settleWaiters = wakeAll(this.#settleWaiters);
  }

  /** Sends the next queued points to be linked into the graph. */
  #sendMoves(): void {
    if (this.#moving !== undefined || this.#swapDue) return;
    const ids: PointId[] = [];
    const vectors: Float32Array[] = [];
    const sent = new Set<PointId>();
    while (this.#queueHead < this.#queue.length && ids.length < BUILD_BATCH_POINTS) {
      const id = this.#queue[this.#queueHead]!;
      this.#queueHead += 1;
      const vector = this.#written.get(id);
      if (vector === undefined || sent.has(id)) continue; // deleted, or queued twice
      sent.add(id);
      ids.push(id);
      vectors.push(vector);
    }
    this.#afterDequeue();
    if (ids.length === 0) {
      if (this.#queueHead > 0) this.#afterDrained(); // what was queued was deleted meanwhile
      return;
    }
    const dimension = this.#options.dimension;
    const packed = new Float32Array(ids.length * dimension);
    vectors.forEach((vector, i) => packed.set(vector, i * dimension));
    this.#moving = this.#send(this.#graph, ids, packed, false, {
      current: (i) => this.#written.get(ids[i]!) === vectors[i],
      adopted: (i) => {
        const id = ids[i]!;
        if (!this.#tail.delete(id)) this.#retired?.delete(id);
        this.#written.delete(id);
      },
    });
  }

  /** Sends a compaction's next copies; swaps the fresh graph in once it holds everything. */
  #sendCopies(): void {
    const rebuild = this.#rebuild;
    if (rebuild === undefined || this.#copying !== undefined) return;
    const points = rebuild.take(BUILD_BATCH_POINTS);
    if (points !== undefined) {
      this.#copying = this.#send(rebuild.fresh, points.ids, points.vectors, true, {
        current: (i) => rebuild.stillLive(points, i),
        adopted: () => {},
      });
      return;
    }
    if (this.#moving !== undefined) {
      this.#swapDue = true; // the moves running go to the old graph: copy them first
      return;
    }
    for (const segment of this.#graph.segments) this.#builder.forget(segment);
    this.#graph = rebuild.fresh;
    this.#rebuild = undefined;
    this.#swapDue = false;
    this.#compactionCount += 1;
    this.#sendMoves();
  }

  #send(
    graph: HnswIndex,
    ids: PointId[],
    vectors: Float32Array,
    prepared: boolean,
    outcome: Pick<BuildBatch, "current" | "adopted">,
  ): BuildBatch {
    const segment = graph.segmentForAppend(ids.length);
    const kernel = graph.segments[segment]!;
    const batch: BuildBatch = { graph, segment, first: kernel.count, ids, ...outcome, settled: 0 };
    this.#builder.insert(kernel, vectors, prepared).then(
      () => this.#finished(batch, undefined),
      (error: Error) => this.#finished(batch, error),
    );
    return batch;
  }

  #finished(batch: BuildBatch, error: Error | undefined): void {
    if (batch === this.#moving) {
      this.#settle(batch);
      this.#moving = undefined;
      if (error === undefined && this.#queueHead >= this.#queue.length) this.#afterDrained();
    } else if (batch === this.#copying) {
      this.#settle(batch);
      this.#copying = undefined;
      if (error instanceof CapacityError) {
        this.#abandonRebuild(); // no memory for a second graph: keep serving the old one
        error = undefined;
      }
    } else {
      return; // stopped, or its compaction was abandoned
    }
    if (error !== undefined) {
      // The points not inserted stay in the tail (searchable, and in the WAL); writes get
      // 503 index_backpressure once it is full.
      this.#buildFailure = error;
      this.#dropRebuild();
      this.#drainWaiters = wakeAll(this.#drainWaiters);
      this.#settleWaiters = wakeAll(this.#settleWaiters);
    }
    this.#admitWaiting();
    this.#sendWork();
  }

  /**
   * Gives every point of the batch the worker has published so far its slot: the id when the
   * point is still the one sent, a tombstone when it was deleted or replaced meanwhile.
   */
  #settle(batch: BuildBatch): void {
    const published = Math.min(
      batch.graph.segments[batch.segment]!.count - batch.first,
      batch.ids.length,
    );
    for (; batch.settled < published; batch.settled++) {
      const slot = batch.first + batch.settled;
      if (batch.current(batch.settled)) {
        batch.graph.adoptSlot(batch.segment, slot, batch.ids[batch.settled]!);
        batch.adopted(batch.settled);
      } else {
        batch.graph.discardSlot(batch.segment, slot);
      }
    }
  }

  /** Trims the consumed head of the queue; retires a tail of mostly tombstones. */
  #afterDequeue(): void {
    if (this.#queueHead < this.#queue.length) {
      this.#retireDeadSlots();
      if (this.#queueHead > 4096 && this.#queueHead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
    }
  }

  /** Every queued point has been sent and settled: the tails are empty. */
  #afterDrained(): void {
    this.#queue = [];
    this.#queueHead = 0;
    // Only ids present in the tail are queued, so an empty queue means an empty tail:
    // start a fresh tail to give back the tombstoned slots.
    if (this.#tail.deletedCount > 0) this.#tail = this.#newTail();
    this.#retired = undefined;
    this.#drainWaiters = wakeAll(this.#drainWaiters);
  }

  /** After a point left the graph: it leaves the rebuild too, and compaction may be due. */
  #afterGraphDelete(id: PointId): void {
    this.#rebuild?.fresh.delete(id);
    this.#maybeCompact();
  }

  /** Starts a rebuild when the graph holds enough tombstones. */
  #maybeCompact(): void {
    if (this.#stopped || this.#buildFailure || this.#rebuild !== undefined) return;
    const dead = this.#graph.deletedCount;
    if (dead < this.#compactRetryTombstones) return;
    if (!needsCompaction(dead, this.#graph.size, this.#compactTombstoneRatio)) return;
    try {
      this.#rebuild = new GraphRebuild(this.#kernel, this.#graph);
    } catch (error) {
      if (!(error instanceof CapacityError)) throw error;
      this.#abandonRebuild();
      return;
    }
    this.#schedule();
  }

  /** Drops a rebuild that ran out of memory; retries once tombstones have doubled. */
  #abandonRebuild(): void {
    this.#dropRebuild();
    this.#compactRetryTombstones = 2 * Math.max(1, this.#graph.deletedCount);
  }

  /** Ends a compaction without swapping: the worker lets go of its fresh graph. */
  #dropRebuild(): void {
    for (const segment of this.#rebuild?.fresh.segments ?? []) this.#builder.forget(segment);
    this.#rebuild = undefined;
    this.#copying = undefined;
    this.#swapDue = false;
  }

  /**
   * Drops the retired tail once drained; retires the active one once at least half its slots
   * (and {@linkcode RETIRE_DEAD_SLOTS_MIN}) are tombstones. FIFO moving drains the retired tail
   * first, so at most two tails exist and dead slots stay within about the live ones.
   */
  #retireDeadSlots(): void {
    if (this.#retired !== undefined && this.#retired.size === 0) this.#retired = undefined;
    const dead = this.#tail.deletedCount;
    if (this.#retired === undefined && dead >= RETIRE_DEAD_SLOTS_MIN && dead >= this.#tail.size) {
      this.#retired = this.#tail;
      this.#tail = this.#newTail();
    }
  }
}

/** Wakes every waiter; returns the empty list that replaces them. */
function wakeAll(waiters: readonly (() => void)[]): (() => void)[] {
  for (const wake of waiters) wake();
  return [];
}

/** Merges two ascending hit lists (disjoint ids) into the k best. */
function mergeHits(a: readonly SearchHit[], b: readonly SearchHit[], k: number): SearchHit[] {
  const merged: SearchHit[] = [];
  let i = 0;
  let j = 0;
  while (merged.length < k && (i < a.length || j < b.length)) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left.distance <= right.distance)) {
      merged.push(left!);
      i += 1;
    } else {
      merged.push(right);
      j += 1;
    }
  }
  return merged;
}
