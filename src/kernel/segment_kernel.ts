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
 * memory in runs (its chunks, joined where adjacent): read them before the
 * segment changes, or copy them.
 */
export interface SegmentState extends SegmentCounters {
  /** count × recordBytes in all: vectors, meta and level-0 links, slot by slot. */
  readonly records: readonly Uint8Array[];
  /** poolUsedBytes in all of upper-level links. */
  readonly pool: readonly Uint8Array[];
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
/** Longest sleep between looks at a held lock (a notify wakes it sooner). */
const LOCK_WAIT_MS = 5;

/**
 * A segment of an index: one WASM instance over a shared memory. A second
 * instance may {@linkcode SegmentKernel.attach} to the same memory in a
 * worker; then one of them inserts (holding {@linkcode lock}) while the other
 * searches, deletes and reads published slots — see `wasm-kernels/assembly/segment.ts`.
 */
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
  constructor(kernel: Kernel, params: SegmentParams, memory?: WebAssembly.Memory) {
    this.params = params;
    this.#wasm = kernel.instantiate(memory);
    let status: number;
    if (memory === undefined) {
      const seed = BigInt.asUintN(64, BigInt(Math.trunc(params.seed)));
      status = this.#wasm.init_segment(
        params.dimension,
        METRIC_CODES[params.metric],
        params.m,
        params.efConstruction,
        params.listCapacity,
        Number(seed & 0xffffffffn),
        Number(seed >> 32n),
      );
    } else {
      status = this.#wasm.attach_segment();
    }
    if (status !== 0) throw new CapacityError("Cannot create a segment: no memory for its scratch");
    this.recordBytes = this.#wasm.record_bytes() >>> 0;
    this.#input = this.#wasm.input_ptr() >>> 0;
    this.#output = this.#wasm.output_ptr() >>> 0;
    const scratchEnd = this.#wasm.used_bytes() >>> 0;
    // Two instances' visited epochs and one allow-list, each grown by half at a time.
    const perSlotBytes = this.recordBytes + 2 * 2 * 1.5 + 1.5 / 8 + this.#poolBytesPerSlot() * 1.5;
    this.slotsMax = Math.min(
      Math.floor((MEMORY_BYTES_MAX - MEMORY_HEADROOM_BYTES - scratchEnd) / perSlotBytes),
      this.#wasm.slots_max() >>> 0,
    );
  }

  /**
   * A second instance over the memory of an existing segment (in another
   * worker, typically), with scratch of its own.
   *
   * @param kernel the compiled kernel
   * @param params the segment's parameters
   * @param memory the segment's {@linkcode memory}
   * @returns the attached segment
   * @throws CapacityError when its scratch cannot be had
   */
  static attach(kernel: Kernel, params: SegmentParams, memory: WebAssembly.Memory): SegmentKernel {
    return new SegmentKernel(kernel, params, memory);
  }

  /** The shared memory, to {@linkcode attach} another instance to it. */
  get memory(): WebAssembly.Memory {
    return this.#wasm.memory;
  }

  /**
   * Takes the writer's lock: inserts and whole-state reads exclude each other
   * across instances. Blocks while the other thread holds it (one insert).
   */
  lock(): void {
    const word = this.#lockWord();
    while (Atomics.compareExchange(word, 0, 0, 1) !== 0) Atomics.wait(word, 0, 1, LOCK_WAIT_MS);
  }

  /** Gives the writer's lock back. */
  unlock(): void {
    const word = this.#lockWord();
    Atomics.store(word, 0, 0);
    Atomics.notify(word, 0, 1);
  }

  #lockWord(): Int32Array {
    const at = (this.#wasm.header_ptr() >>> 0) + (this.#wasm.lock_offset() >>> 0);
    return new Int32Array(this.#wasm.memory.buffer, at, 1);
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
    const meta = (this.#wasm.record_ptr(slot) >>> 0) + (this.#wasm.meta_offset() >>> 0);
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
    const count = this.count;
    const at = this.#wasm.prepare_allow(count) >>> 0;
    if (at === 0) throw new CapacityError("Cannot filter: no memory for the allow-list");
    const bits = new Uint32Array(this.#wasm.memory.buffer, at, Math.ceil(count / 32));
    for (const slot of slots) if (slot < count) bits[slot >>> 5]! |= 1 << (slot & 31);
  }

  /**
   * A copy of the stored vector of a slot (normalized for cosine).
   *
   * @param slot the slot
   * @returns its vector
   */
  vector(slot: number): Float32Array {
    return this.#floats(this.#wasm.record_ptr(slot) >>> 0, this.params.dimension).slice();
  }

  /**
   * Copies the stored vector of a slot into `target` (no intermediate array).
   *
   * @param slot the slot
   * @param target where to write `dimension` floats
   * @param offset the first float of `target` to write
   */
  copyVector(slot: number, target: Float32Array, offset: number): void {
    target.set(this.#floats(this.#wasm.record_ptr(slot) >>> 0, this.params.dimension), offset);
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
   * snapshot's capture does not copy every record twice. With a writer in
   * another instance, hold {@linkcode lock} while reading them.
   *
   * @returns the state; `records` and `pool` are valid until the segment next changes
   */
  exportState(): SegmentState {
    const wasm = this.#wasm;
    const count = this.count;
    const poolUsedBytes = wasm.pool_used_bytes() >>> 0;
    const chunkSlots = wasm.chunk_slots() >>> 0;
    const poolChunkBytes = wasm.pool_chunk_bytes() >>> 0;
    return {
      count,
      deletedCount: this.deletedCount,
      poolUsedBytes,
      entryPoint: wasm.entry_point() >>> 0,
      maxLevel: this.maxLevel,
      randomLow: wasm.random_state_low() >>> 0,
      randomHigh: wasm.random_state_high() >>> 0,
      records: this.#runs(
        count * this.recordBytes,
        chunkSlots * this.recordBytes,
        wasm.record_chunk_ptr,
      ),
      pool: this.#runs(poolUsedBytes, poolChunkBytes, wasm.pool_chunk_ptr),
    };
  }

  /** Views of the first `total` bytes of a chunked region, adjacent chunks joined. */
  #runs(total: number, chunkBytes: number, chunkAt: (index: number) => number): Uint8Array[] {
    const buffer = this.#wasm.memory.buffer;
    const runs: Uint8Array[] = [];
    let start = 0;
    let length = 0;
    for (let index = 0; index * chunkBytes < total; index++) {
      const at = chunkAt(index) >>> 0;
      const bytes = Math.min(chunkBytes, total - index * chunkBytes);
      if (length > 0 && at === start + length) {
        length += bytes;
        continue;
      }
      if (length > 0) runs.push(new Uint8Array(buffer, start, length));
      start = at;
      length = bytes;
    }
    if (length > 0) runs.push(new Uint8Array(buffer, start, length));
    return runs;
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
    // A fresh segment reserves records and pool in one allocation each: both are contiguous.
    const records = segment.#runs(
      image.count * segment.recordBytes,
      (wasm.chunk_slots() >>> 0) * segment.recordBytes,
      wasm.record_chunk_ptr,
    );
    const pool = segment.#runs(
      image.pool.byteLength,
      wasm.pool_chunk_bytes() >>> 0,
      wasm.pool_chunk_ptr,
    );
    if (records.length > 1 || pool.length > 1) {
      throw new Error("Cannot restore a segment: its fresh regions are not contiguous");
    }
    if (records[0] !== undefined) image.writeRecords(records[0]);
    if (pool[0] !== undefined) pool[0].set(image.pool);
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
    if (found < 0) throw new CapacityError("Cannot search: no memory for the search's scratch");
    const { ids, distances } = readEntries(this.#wasm.memory, this.#output, found);
    return { slots: ids, distances };
  }
}
