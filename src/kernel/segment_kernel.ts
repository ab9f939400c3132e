/**
 * One segment: a kernel instance holding vectors, HNSW links and tombstones
 * in its own linear memory. Typed camelCase methods over the raw exports;
 * every method is one call into WASM (plus copies through typed views).
 * Arguments are validated by the index facade; this layer asserts only what
 * would otherwise corrupt memory.
 *
 * @module
 */

import { CapacityError } from "../errors.ts";
import type { Kernel } from "./kernel.ts";
import {
  DELETED_FLAG,
  KERNEL_STATUS,
  type KernelExports,
  NO_NODE,
  readEntries,
} from "./kernel_exports.ts";
import { type Metric, METRIC_CODES } from "./metric.ts";

/** Parameters fixed when a segment is made. */
export interface SegmentParams {
  readonly dimension: number;
  readonly metric: Metric;
  readonly m: number;
  readonly efConstruction: number;
  /** Size of the search lists: the largest ef (or k) a search may use. */
  readonly listCapacity: number;
  /** Seed of the level generator. */
  readonly seed: number;
  /** False for a brute-force segment: vectors only, no links. */
  readonly graph: boolean;
}

/** k nearest slots of one segment, ascending distance. */
export interface SegmentHits {
  readonly slots: Uint32Array;
  readonly distances: Float32Array;
}

/** A segment's counters: with its records and pool, all it takes to rebuild it. */
export interface SegmentCounters {
  readonly count: number;
  readonly deletedCount: number;
  readonly poolUsedBytes: number;
  readonly entryPoint: number;
  readonly maxLevel: number;
  readonly randomLow: number;
  readonly randomHigh: number;
}

/**
 * A segment exported as bytes. `records` and `pool` view the instance's
 * memory: read them before the next call into the segment (which may grow
 * the memory and detach them), or copy them.
 */
export interface SegmentState extends SegmentCounters {
  /** count × recordBytes: vectors, meta and level-0 links. */
  readonly records: Uint8Array;
  /** poolUsedBytes of upper-level links. */
  readonly pool: Uint8Array;
}

/**
 * A segment to restore: its records are written straight into the new
 * instance's memory by `writeRecords`, so a decoder that assembles records
 * from parts (graph.bin + Parquet rows) never builds a second copy.
 */
export interface SegmentImage extends SegmentCounters {
  /** poolUsedBytes of upper-level links. */
  readonly pool: Uint8Array;
  /** Fills `target` (exactly count × recordBytes bytes) with the records. */
  writeRecords(target: Uint8Array): void;
}

const MEMORY_BYTES_MAX = 4 * 1024 ** 3;
const MEMORY_HEADROOM_BYTES = 64 * 1024 ** 2;
const GROWTH_SLOTS_MIN = 1024;

/** A segment of an index: one WASM instance. */
export class SegmentKernel {
  readonly params: SegmentParams;
  readonly recordBytes: number;
  /** Most slots this segment can hold inside one 4 GiB memory. */
  readonly slotsMax: number;
  readonly #wasm: KernelExports;
  readonly #input: number;
  readonly #output: number;

  /**
   * Makes an empty segment.
   *
   * @param kernel the compiled kernel
   * @param params the segment's parameters
   * @throws CapacityError when the instance cannot get its first memory
   */
  constructor(kernel: Kernel, params: SegmentParams) {
    this.params = params;
    this.#wasm = kernel.instantiate();
    const seed = BigInt.asUintN(64, BigInt(Math.trunc(params.seed)));
    const status = this.#wasm.init_segment(
      params.dimension,
      METRIC_CODES[params.metric],
      params.m,
      params.efConstruction,
      params.listCapacity,
      Number(seed & 0xffffffffn),
      Number(seed >> 32n),
    );
    if (status !== 0) throw new CapacityError("Cannot create a segment: no memory for its scratch");
    this.recordBytes = this.#wasm.record_bytes() >>> 0;
    this.#input = this.#wasm.input_ptr() >>> 0;
    this.#output = this.#wasm.output_ptr() >>> 0;
    const records = this.#wasm.records_ptr() >>> 0;
    const perSlotBytes = this.recordBytes + 2 + 1 / 8 + this.#poolBytesPerSlot() * 1.5;
    this.slotsMax = Math.floor((MEMORY_BYTES_MAX - MEMORY_HEADROOM_BYTES - records) / perSlotBytes);
  }

  /** Slots used, tombstones included. */
  get count(): number {
    return this.#wasm.node_count();
  }

  /** Tombstoned slots. */
  get deletedCount(): number {
    return this.#wasm.deleted_count();
  }

  /** Slots with room reserved. */
  get capacity(): number {
    return this.#wasm.capacity();
  }

  /** Bytes of linear memory this instance holds. */
  get memoryBytes(): number {
    return this.#wasm.memory.buffer.byteLength;
  }

  /** Whether another insert fits in this segment. */
  get isFull(): boolean {
    return this.count >= this.slotsMax;
  }

  #poolBytesPerSlot(): number {
    return this.params.graph ? (4 * (1 + this.params.m)) / (this.params.m - 1) : 0;
  }

  /**
   * Reserves room for `slots` slots (and their expected upper links).
   *
   * @param slots total slots wanted, at most {@linkcode slotsMax}
   * @throws CapacityError when memory cannot grow that far
   */
  reserve(slots: number): void {
    const target = Math.min(slots, this.slotsMax);
    if (target <= this.capacity) return;
    const poolBytes = Math.ceil(target * this.#poolBytesPerSlot() * 1.5);
    if (this.#wasm.reserve_segment(target, poolBytes) !== 1) {
      throw new CapacityError(
        `Cannot reserve ${target} slots: the segment's memory cannot grow to hold them`,
      );
    }
  }

  /**
   * Stores a vector (normalized for cosine) and links it into the graph.
   *
   * @param vector `dimension` finite floats
   * @param prepared the vector came from {@linkcode vector} of a segment with
   *   the same metric: store it bit for bit (no second normalization)
   * @returns the new slot
   * @throws RangeError for a zero vector under cosine
   * @throws CapacityError when the segment is full or memory cannot grow
   */
  insert(vector: Float32Array, prepared = false): number {
    if (this.isFull) throw new CapacityError("Cannot insert: the segment is full");
    if (this.count >= this.capacity) {
      this.reserve(Math.max(GROWTH_SLOTS_MIN, Math.ceil(this.capacity * 1.5)));
    }
    this.#floats(this.#input, this.params.dimension).set(vector);
    const slot = this.#wasm.insert_node(this.params.graph ? 1 : 0, prepared ? 1 : 0);
    if (slot === KERNEL_STATUS.zeroVector) {
      throw new RangeError("Cannot insert a zero vector: cosine needs a non-zero norm");
    }
    if (slot < 0) throw new CapacityError("Cannot insert: the segment's memory cannot grow");
    return slot;
  }

  /**
   * Tombstones a slot: it still guides searches but is never returned.
   *
   * @param slot the slot
   * @returns true if it was live
   */
  delete(slot: number): boolean {
    return this.#wasm.delete_node(slot) === 1;
  }

  /** Whether the slot is a tombstone. */
  isDeleted(slot: number): boolean {
    const meta = (this.#wasm.records_ptr() >>> 0) + slot * this.recordBytes +
      (this.#wasm.meta_offset() >>> 0);
    return (new Uint32Array(this.#wasm.memory.buffer, meta, 1)[0]! & DELETED_FLAG) !== 0;
  }

  /**
   * Loads a query into the kernel (normalized for cosine).
   *
   * @param query `dimension` finite floats
   * @returns false for a zero query under cosine, which matches nothing
   */
  prepareQuery(query: Float32Array): boolean {
    this.#floats(this.#input, this.params.dimension).set(query);
    return this.#wasm.prepare_query() === 1;
  }

  /**
   * Graph search for the prepared query.
   *
   * @param k results wanted (≤ listCapacity)
   * @param efSearch frontier size (≤ listCapacity)
   * @param useAllow restrict results to the allow-list set by {@linkcode setAllowList}
   * @returns the hits
   */
  searchGraph(k: number, efSearch: number, useAllow: boolean): SegmentHits {
    return this.#hits(this.#wasm.search_graph(k, efSearch, useAllow ? 1 : 0));
  }

  /** Exact scan for the prepared query; same arguments as {@linkcode searchGraph}. */
  searchExact(k: number, useAllow: boolean): SegmentHits {
    return this.#hits(this.#wasm.search_exact(k, useAllow ? 1 : 0));
  }

  /**
   * Writes the allow-list bitset: exactly these slots are allowed.
   *
   * @param slots allowed slots of this segment
   */
  setAllowList(slots: Iterable<number>): void {
    const words = Math.ceil(this.capacity / 32);
    const bits = new Uint32Array(this.#wasm.memory.buffer, this.#wasm.allow_ptr() >>> 0, words);
    bits.fill(0);
    for (const slot of slots) bits[slot >>> 5]! |= 1 << (slot & 31);
  }

  /**
   * A copy of the stored vector of a slot (normalized for cosine).
   *
   * @param slot the slot
   * @returns its vector
   */
  vector(slot: number): Float32Array {
    const start = (this.#wasm.records_ptr() >>> 0) + slot * this.recordBytes;
    return this.#floats(start, this.params.dimension).slice();
  }

  /**
   * Copies the stored vector of a slot into `target` (no intermediate array).
   *
   * @param slot the slot
   * @param target where to write `dimension` floats
   * @param offset the first float of `target` to write
   */
  copyVector(slot: number, target: Float32Array, offset: number): void {
    const start = (this.#wasm.records_ptr() >>> 0) + slot * this.recordBytes;
    target.set(this.#floats(start, this.params.dimension), offset);
  }

  /** The node's level in the graph (0 for brute-force segments). */
  level(slot: number): number {
    return this.#wasm.node_level(slot);
  }

  /** The node's level-0 in-degree as the kernel counts it. */
  inDegree(slot: number): number {
    return this.#wasm.node_in_degree(slot) >>> 0;
  }

  /** A copy of the node's links at `level`. */
  links(slot: number, level: number): Uint32Array {
    const start = this.#wasm.node_links_ptr(slot, level) >>> 0;
    const limit = level === 0 ? 2 * this.params.m : this.params.m;
    const words = new Uint32Array(this.#wasm.memory.buffer, start, 1 + limit);
    return words.slice(1, 1 + words[0]!);
  }

  /** The graph's entry point, or undefined when it is empty. */
  get entryPoint(): number | undefined {
    const entry = this.#wasm.entry_point() >>> 0;
    return entry === NO_NODE ? undefined : entry;
  }

  /** The entry point's level, −1 when empty. */
  get maxLevel(): number {
    return this.#wasm.max_level();
  }

  /**
   * The segment's state as bytes, for serialization: views of its memory,
   * not copies (the encoders copy what they keep, synchronously), so a
   * snapshot's capture does not copy every record twice.
   *
   * @returns the state; `records` and `pool` are valid until the next call into the segment
   */
  exportState(): SegmentState {
    const buffer = this.#wasm.memory.buffer;
    const records = this.#wasm.records_ptr() >>> 0;
    const poolUsedBytes = this.#wasm.pool_used_bytes() >>> 0;
    return {
      count: this.count,
      deletedCount: this.deletedCount,
      poolUsedBytes,
      entryPoint: this.#wasm.entry_point() >>> 0,
      maxLevel: this.maxLevel,
      randomLow: this.#wasm.random_state_low() >>> 0,
      randomHigh: this.#wasm.random_state_high() >>> 0,
      records: new Uint8Array(buffer, records, this.count * this.recordBytes),
      pool: new Uint8Array(buffer, this.#wasm.pool_ptr() >>> 0, poolUsedBytes),
    };
  }

  /**
   * Makes a segment from an image, without rebuilding anything.
   *
   * @param kernel the compiled kernel
   * @param params the parameters the image was made with
   * @param image counters, pool and a writer of the records
   * @returns the segment
   * @throws CapacityError when memory cannot hold it; whatever `writeRecords` throws
   */
  static fromImage(kernel: Kernel, params: SegmentParams, image: SegmentImage): SegmentKernel {
    const segment = new SegmentKernel(kernel, params);
    const wasm = segment.#wasm;
    const poolBytes = Math.max(image.pool.byteLength, Math.ceil(image.count * 0.1));
    if (wasm.reserve_segment(Math.max(image.count, 1), poolBytes) !== 1) {
      throw new CapacityError(`Cannot restore a segment of ${image.count} slots: no memory`);
    }
    const records = wasm.records_ptr() >>> 0;
    image.writeRecords(
      new Uint8Array(wasm.memory.buffer, records, image.count * segment.recordBytes),
    );
    new Uint8Array(wasm.memory.buffer, wasm.pool_ptr() >>> 0).set(image.pool);
    wasm.restore_segment(
      image.count,
      image.deletedCount,
      image.poolUsedBytes,
      image.entryPoint,
      image.maxLevel,
    );
    wasm.set_random_state(image.randomLow, image.randomHigh);
    return segment;
  }

  #floats(start: number, length: number): Float32Array {
    return new Float32Array(this.#wasm.memory.buffer, start, length);
  }

  #hits(found: number): SegmentHits {
    const { ids, distances } = readEntries(this.#wasm.memory, this.#output, found);
    return { slots: ids, distances };
  }
}
