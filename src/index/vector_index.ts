/**
 * The vector index facade: string/number ids mapped to dense slots in a set of
 * segments (one WASM instance each, at most 4 GiB), searched together and
 * merged. {@linkcode HnswIndex} links every vector into an HNSW graph;
 * {@linkcode BruteForceIndex} stores vectors only and scans exactly.
 *
 * @module
 */

import { LIMITS } from "../limits.ts";
import { type Kernel, type Metric, SegmentKernel, type SegmentParams } from "../kernel/mod.ts";
import { formatPointId, type PointId, validatePointId } from "./point_id.ts";
import { checkDimension, checkInteger, checkMetric, checkVector } from "./vector_checks.ts";
import { type SearchHit, type SearchOptions, searchSegments } from "./search_segments.ts";
import { CorruptionError } from "../errors.ts";
import { encodeIndex, type StoredIndex } from "./index_codec.ts";
import { encodeGraph } from "./graph_codec.ts";

/** Options of a new index. */
export interface IndexOptions {
  readonly dimension: number;
  readonly metric: Metric;
  /** Links per node above layer 0 (layer 0 has m0 = 2·m); default 16. */
  readonly m?: number;
  /** Frontier size while building; default 200. */
  readonly efConstruction?: number;
  /** Default frontier size of a search; default 64. */
  readonly efSearch?: number;
  /** Seed of the level generator; default 42. */
  readonly seed?: number;
  /** Cap on slots per segment (tests use small values to exercise several segments). */
  readonly segmentSlotsMax?: number;
}

/** The parameters an index was made with, all resolved. */
export interface IndexParams {
  readonly dimension: number;
  readonly metric: Metric;
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
  readonly seed: number;
  readonly segmentSlotsMax: number;
  readonly graph: boolean;
}

const SLOT_SPAN = 2 ** 32;

/** Resolves and validates options into parameters. */
export function resolveParams(options: IndexOptions, graph: boolean): IndexParams {
  return {
    dimension: checkDimension(options.dimension),
    metric: checkMetric(options.metric),
    m: checkInteger(options.m ?? LIMITS.mDefault, "m", LIMITS.mMin, LIMITS.mMax),
    efConstruction: checkInteger(
      options.efConstruction ?? LIMITS.efConstructionDefault,
      "efConstruction",
      LIMITS.efConstructionMin,
      LIMITS.efConstructionMax,
    ),
    efSearch: checkInteger(
      options.efSearch ?? LIMITS.efSearchDefault,
      "efSearch",
      LIMITS.efSearchMin,
      LIMITS.efSearchMax,
    ),
    seed: checkInteger(options.seed ?? 42, "seed", 0, Number.MAX_SAFE_INTEGER),
    segmentSlotsMax: checkInteger(
      options.segmentSlotsMax ?? 2 ** 31 - 1,
      "segmentSlotsMax",
      1,
      2 ** 31 - 1,
    ),
    graph,
  };
}

/** Ids and segments of an index; HNSW and brute force differ only in `params.graph`. */
export class VectorIndex {
  readonly params: IndexParams;
  readonly #kernel: Kernel;
  readonly #segments: SegmentKernel[] = [];
  /** Per segment, the id of each slot (undefined once deleted). */
  readonly #slotIds: (PointId | undefined)[][] = [];
  /** id → segment · 2^32 + slot. */
  readonly #locations = new Map<PointId, number>();
  /** One vector's room for {@linkcode copyPointFrom}. */
  #copyScratch: Float32Array | undefined;

  /**
   * An empty index.
   *
   * @param kernel the compiled kernel
   * @param params resolved parameters (see {@linkcode resolveParams})
   */
  constructor(kernel: Kernel, params: IndexParams) {
    this.#kernel = kernel;
    this.params = params;
  }

  /** Live points. */
  get size(): number {
    return this.#locations.size;
  }

  /** Tombstoned slots not yet reclaimed by {@linkcode compact}. */
  get deletedCount(): number {
    return this.#segments.reduce((sum, segment) => sum + segment.deletedCount, 0);
  }

  /**
   * Share of slots that are tombstones. A graph degrades as it grows (each
   * costs search effort and none is a result), so owners compact above ~0.2.
   */
  get tombstoneRatio(): number {
    const deleted = this.deletedCount;
    return deleted === 0 ? 0 : deleted / (deleted + this.size);
  }

  /** Bytes of WASM linear memory held by all segments. */
  get memoryBytes(): number {
    return this.#segments.reduce((sum, segment) => sum + segment.memoryBytes, 0);
  }

  /** The segments, read-only, for integrity checks and serialization. */
  get segments(): readonly SegmentKernel[] {
    return this.#segments;
  }

  /** The id stored in a slot, or undefined for a tombstone. */
  slotId(segment: number, slot: number): PointId | undefined {
    return this.#slotIds[segment]?.[slot];
  }

  /**
   * Slots of a segment this index holds ids for: all of them, unless another
   * thread is inserting into it (see {@linkcode segmentForAppend}).
   */
  slotCount(segment: number): number {
    return this.#slotIds[segment]?.length ?? 0;
  }

  /**
   * The segment that takes the next `count` points, for inserting them from
   * another thread: a new one when the last cannot hold them. Each slot
   * inserted there must then be {@linkcode adoptSlot adopted} or
   * {@linkcode discardSlot discarded}, in slot order; until then searches skip it.
   *
   * @param count points to insert
   * @returns the segment's index in {@linkcode segments}
   */
  segmentForAppend(count: number): number {
    const last = this.#segments.length - 1;
    const current = this.#segments[last];
    const room = current === undefined
      ? 0
      : Math.min(current.slotsMax, this.params.segmentSlotsMax) - current.count;
    if (current !== undefined && room >= count) return last;
    return this.#writableSegmentIndex(true);
  }

  /**
   * Gives the next slot of a segment, inserted from another thread, its id.
   *
   * @param segment the segment's index
   * @param slot the slot: the first this index holds no id for
   * @param id the point's id (replaced if present elsewhere)
   */
  adoptSlot(segment: number, slot: number, id: PointId): void {
    this.#checkNextSlot(segment, slot);
    this.delete(id);
    this.#slotIds[segment]!.push(id);
    this.#locations.set(id, segment * SLOT_SPAN + slot);
  }

  /**
   * Makes the next slot of a segment, inserted from another thread, a
   * tombstone (its point was deleted or replaced meanwhile).
   *
   * @param segment the segment's index
   * @param slot the slot: the first this index holds no id for
   */
  discardSlot(segment: number, slot: number): void {
    this.#checkNextSlot(segment, slot);
    this.#slotIds[segment]!.push(undefined);
    this.#segments[segment]!.delete(slot);
  }

  #checkNextSlot(segment: number, slot: number): void {
    const expected = this.slotCount(segment);
    if (slot !== expected || slot >= (this.#segments[segment]?.count ?? 0)) {
      throw new RangeError(
        `Cannot take slot ${segment}/${slot}: the next inserted one is ${expected}`,
      );
    }
  }

  /**
   * Reserves room for `count` points in total, like hnswlib's maxElements.
   *
   * @param count points expected
   * @throws CapacityError when memory cannot grow that far
   */
  reserve(count: number): void {
    checkInteger(count, "count", 0, Number.MAX_SAFE_INTEGER);
    const segment = this.#writableSegment();
    const room = count - this.size + segment.count;
    segment.reserve(Math.min(room, this.params.segmentSlotsMax));
  }

  /**
   * Inserts or replaces a point. A replaced point's old slot becomes a
   * tombstone; its vector is searchable again only under the new one.
   *
   * @param id the point's id
   * @param vector `dimension` finite floats
   * @throws TypeError / RangeError for a bad id or vector (nothing changes)
   * @throws CapacityError when no memory is left
   */
  upsert(id: PointId, vector: Float32Array): void {
    validatePointId(id, "upsert");
    checkVector(vector, this.params.dimension, `Cannot upsert point ${formatPointId(id)}`);
    this.#insert(id, vector, false);
  }

  /**
   * Copies a live point of another index with the same metric and dimension
   * (a rebuild): its stored vector goes in bit for bit, with no second
   * normalization, so a rebuilt index answers exactly like the source.
   *
   * @param source the index holding the point
   * @param segment the point's segment in `source`
   * @param slot its slot there (must be live)
   * @throws CapacityError when no memory is left
   */
  copyPointFrom(source: VectorIndex, segment: number, slot: number): void {
    const id = source.#slotIds[segment]?.[slot];
    if (id === undefined) throw new RangeError(`Cannot copy slot ${segment}/${slot}: not live`);
    const scratch = this.#copyScratch ??= new Float32Array(this.params.dimension);
    source.#segments[segment]!.copyVector(slot, scratch, 0);
    this.#insert(id, scratch, true);
  }

  #insert(id: PointId, vector: Float32Array, prepared: boolean): void {
    const segmentIndex = this.#writableSegmentIndex();
    const slot = this.#segments[segmentIndex]!.insert(vector, prepared);
    this.delete(id);
    this.#slotIds[segmentIndex]![slot] = id;
    this.#locations.set(id, segmentIndex * SLOT_SPAN + slot);
  }

  /**
   * Deletes a point (a tombstone until {@linkcode compact}).
   *
   * @param id the point's id
   * @returns true if it existed
   */
  delete(id: PointId): boolean {
    const location = this.#locations.get(id);
    if (location === undefined) return false;
    const segment = Math.floor(location / SLOT_SPAN);
    const slot = location - segment * SLOT_SPAN;
    this.#segments[segment]!.delete(slot);
    this.#slotIds[segment]![slot] = undefined;
    this.#locations.delete(id);
    return true;
  }

  /** Whether a live point has this id. */
  has(id: PointId): boolean {
    return this.#locations.has(id);
  }

  /**
   * A copy of a point's stored vector (unit length under cosine).
   *
   * @param id the point's id
   * @returns the vector, or undefined when absent
   */
  vector(id: PointId): Float32Array | undefined {
    const location = this.#locations.get(id);
    if (location === undefined) return undefined;
    const segment = Math.floor(location / SLOT_SPAN);
    return this.#segments[segment]!.vector(location - segment * SLOT_SPAN);
  }

  /** Every live id with its vector, segment by segment, slot order. */
  *entries(): Generator<[PointId, Float32Array]> {
    for (let s = 0; s < this.#segments.length; s++) {
      const ids = this.#slotIds[s]!;
      for (let slot = 0; slot < ids.length; slot++) {
        const id = ids[slot];
        if (id !== undefined) yield [id, this.#segments[s]!.vector(slot)];
      }
    }
  }

  /**
   * Copies every live point, in {@linkcode entries} order, into one
   * row-major array without a copy per vector (snapshot capture).
   *
   * @param target receives `size × dimension` floats from row `firstRow`
   * @param firstRow the row of the first point
   * @param ids receives the ids, in the same order
   */
  copyEntriesInto(target: Float32Array, firstRow: number, ids: PointId[]): void {
    const dimension = this.params.dimension;
    let row = firstRow;
    for (let s = 0; s < this.#segments.length; s++) {
      const slotIds = this.#slotIds[s]!;
      const segment = this.#segments[s]!;
      for (let slot = 0; slot < slotIds.length; slot++) {
        const id = slotIds[slot];
        if (id === undefined) continue;
        segment.copyVector(slot, target, row * dimension);
        ids.push(id);
        row += 1;
      }
    }
  }

  /**
   * The k nearest live points, ascending distance (see `metric.ts` for the
   * distance of each metric).
   *
   * @param query `dimension` finite floats
   * @param k results wanted, 1..LIMITS.kMax
   * @param options efSearch, an allow-list of ids, and the filter strategy
   * @returns at most k hits; exactly min(k, allowed live points) with an allow-list
   * @throws RangeError for a bad query, k or efSearch
   */
  search(query: Float32Array, k: number, options: SearchOptions = {}): SearchHit[] {
    checkVector(query, this.params.dimension, "Cannot search");
    checkInteger(k, "k", LIMITS.kMin, LIMITS.kMax);
    const efSearch = checkInteger(
      options.efSearch ?? this.params.efSearch,
      "efSearch",
      LIMITS.efSearchMin,
      LIMITS.efSearchMax,
    );
    const allowed = options.allow === undefined ? undefined : this.#allowedSlots(options.allow);
    return searchSegments({
      segments: this.#segments,
      slotIds: this.#slotIds,
      query,
      k,
      efSearch,
      allowed,
      strategy: this.params.graph ? (options.filterStrategy ?? "auto") : "exact",
      m: this.params.m,
    });
  }

  /**
   * Rebuilds every segment from the live points, reclaiming tombstones.
   * Costs a full build; the engine runs it off the request path.
   */
  compact(): void {
    const fresh = new VectorIndex(this.#kernel, this.params);
    fresh.reserve(this.size);
    for (const [id, vector] of this.entries()) fresh.#insert(id, vector, true);
    this.#segments.splice(0, this.#segments.length, ...fresh.#segments);
    this.#slotIds.splice(0, this.#slotIds.length, ...fresh.#slotIds);
    this.#locations.clear();
    for (const [id, location] of fresh.#locations) this.#locations.set(id, location);
  }

  /**
   * The whole index as bytes: parameters, vectors, links and ids.
   *
   * @returns bytes that {@linkcode restore} turns back into this index
   */
  serialize(): Uint8Array {
    return encodeIndex(
      this.params,
      this.#segments.map((segment, i) => ({
        state: segment.exportState(),
        ids: this.#slotIds[i]!,
      })),
    );
  }

  /**
   * The graph without the live vectors, for snapshots: the live points go
   * alongside as rows in {@linkcode entries} order (see `graph_codec.ts`).
   *
   * @returns the `graph.bin` bytes
   */
  exportGraph(): Uint8Array {
    const recordBytes = this.#segments[0]?.recordBytes ??
      new SegmentKernel(this.#kernel, this.segmentParams()).recordBytes;
    return encodeGraph(
      this.params,
      this.#segments.map((segment, i) => ({
        state: segment.exportState(),
        ids: this.#slotIds[i]!,
      })),
      recordBytes,
    );
  }

  /**
   * Fills this empty index from decoded bytes, without rebuilding.
   *
   * @param stored what `decodeIndex` read from {@linkcode serialize}'s bytes
   * @returns this index, filled
   * @throws CorruptionError when the index is of the other kind
   */
  protected restore(stored: StoredIndex): this {
    if (stored.params.graph !== this.params.graph) {
      throw new CorruptionError(
        `Cannot load index: it is ${stored.params.graph ? "an HNSW" : "a brute-force"} index`,
      );
    }
    for (const { image, ids } of stored.segments) {
      const segment = this.#segments.length;
      this.#segments.push(SegmentKernel.fromImage(this.#kernel, this.segmentParams(), image));
      this.#slotIds.push([...ids]);
      for (let slot = 0; slot < ids.length; slot++) {
        const id = ids[slot];
        if (id !== undefined) this.#locations.set(id, segment * SLOT_SPAN + slot);
      }
    }
    return this;
  }

  /** The parameters each segment is made with. */
  segmentParams(): SegmentParams {
    return {
      dimension: this.params.dimension,
      metric: this.params.metric,
      m: this.params.m,
      efConstruction: this.params.efConstruction,
      listCapacity: Math.max(LIMITS.efSearchMax, LIMITS.efConstructionMax, LIMITS.kMax),
      seed: this.params.seed + this.#segments.length,
      graph: this.params.graph,
    };
  }

  #writableSegmentIndex(fresh = false): number {
    const last = this.#segments.length - 1;
    const current = this.#segments[last];
    if (!fresh && current && !current.isFull && current.count < this.params.segmentSlotsMax) {
      return last;
    }
    this.#segments.push(new SegmentKernel(this.#kernel, this.segmentParams()));
    this.#slotIds.push([]);
    return last + 1;
  }

  #writableSegment(): SegmentKernel {
    return this.#segments[this.#writableSegmentIndex()]!;
  }

  #allowedSlots(allow: Iterable<PointId>): number[][] {
    const slots: number[][] = this.#segments.map(() => []);
    for (const id of allow) {
      const location = this.#locations.get(id);
      if (location === undefined) continue;
      const segment = Math.floor(location / SLOT_SPAN);
      slots[segment]!.push(location - segment * SLOT_SPAN);
    }
    return slots;
  }
}
