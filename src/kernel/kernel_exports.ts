/**
 * The raw exports of `wasm-kernels/build/akidb.wasm`, typed. Pointers are
 * byte offsets into the instance's memory; wasm returns them as i32, so read
 * them through `>>> 0`. Only `src/kernel/` uses these names directly.
 *
 * @module
 */

/** Exports of one kernel instance, as defined in `wasm-kernels/assembly/index.ts`. */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  // raw scoring
  raw_alloc(bytes: number): number;
  raw_reset(): void;
  l2sq_f32(a: number, b: number, dim: number): number;
  dot_f32(a: number, b: number, dim: number): number;
  cosine_distance_f32(a: number, b: number, dim: number): number;
  normalize_f32(vector: number, dim: number): number;
  score_batch_f32(
    metric: number,
    query: number,
    vectors: number,
    count: number,
    dim: number,
    output: number,
  ): void;
  top_k_f32(
    metric: number,
    query: number,
    vectors: number,
    count: number,
    dim: number,
    k: number,
    output: number,
  ): number;
  // segment
  init_segment(
    dim: number,
    metric: number,
    m: number,
    efConstruction: number,
    listCapacity: number,
    seedLow: number,
    seedHigh: number,
  ): number;
  attach_segment(): number;
  reserve_segment(slots: number, poolBytes: number): number;
  insert_node(graph: number, prepared: number): number;
  delete_node(slot: number): number;
  prepare_query(): number;
  search_graph(k: number, ef: number, useAllow: number): number;
  search_exact(k: number, useAllow: number): number;
  restore_segment(
    count: number,
    deleted: number,
    poolUsed: number,
    entry: number,
    maxLevel: number,
  ): void;
  node_level(slot: number): number;
  node_in_degree(slot: number): number;
  node_links_ptr(slot: number, level: number): number;
  random_state_low(): number;
  random_state_high(): number;
  set_random_state(low: number, high: number): void;
  prepare_allow(slots: number): number;
  header_ptr(): number;
  lock_offset(): number;
  input_ptr(): number;
  output_ptr(): number;
  record_ptr(slot: number): number;
  record_chunk_ptr(index: number): number;
  chunk_slots(): number;
  slots_max(): number;
  pool_chunk_ptr(index: number): number;
  pool_chunk_bytes(): number;
  record_bytes(): number;
  meta_offset(): number;
  capacity(): number;
  pool_capacity_bytes(): number;
  node_count(): number;
  deleted_count(): number;
  pool_used_bytes(): number;
  entry_point(): number;
  max_level(): number;
  used_bytes(): number;
}

/** Status codes returned by `insert_node` and `search_graph` (negative) — `hnsw.ts`. */
export const KERNEL_STATUS = Object.freeze({
  noMemory: -1,
  zeroVector: -2,
});

/** `entry_point()` of an empty graph. */
export const NO_NODE = 0xffffffff;

/** Bit 8 of a record's meta word: the node is a tombstone — `segment.ts`. */
export const DELETED_FLAG = 0x100;

/**
 * Copies `count` (distance f32, id u32) entries — the kernel's sorted-list
 * layout — out of linear memory.
 *
 * @param memory the instance's memory
 * @param at byte offset of the first entry
 * @param count entries to read
 * @returns ids and distances, in list order
 */
export function readEntries(
  memory: WebAssembly.Memory,
  at: number,
  count: number,
): { ids: Uint32Array; distances: Float32Array } {
  const words = new Uint32Array(memory.buffer, at, count * 2);
  const floats = new Float32Array(memory.buffer, at, count * 2);
  const ids = new Uint32Array(count);
  const distances = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    distances[i] = floats[2 * i]!;
    ids[i] = words[2 * i + 1]!;
  }
  return { ids, distances };
}
