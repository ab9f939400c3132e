// The module's exports, named operation_type; the TypeScript facade in
// src/kernel/ wraps them in typed methods. Nothing here throws for control
// flow: operations return counts or status codes, and the host validates its
// arguments before calling, so an abort always means a bug.
//
// Two uses of one module:
//  - a segment (after init_segment): an HNSW graph or a brute-force store;
//  - raw scoring (no init): distance functions over host-placed vectors, for
//    the conformance suite and one-off batch scoring.

import { distanceOf, dot, l2sq, METRIC_COSINE, normalize } from "./distance";
import { deleteNode, insertNode, nodeLevel, searchExact, searchGraph } from "./hnsw";
import { listInsert, entryDistance } from "./sorted_list";
import { randomState, seedRandom } from "./rng";
import * as segment from "./segment";

// ---- raw scoring -----------------------------------------------------------

let rawTop: usize = 0;

/** Bump-allocates `bytes` (16-aligned) of host scratch; 0 when memory cannot grow. */
export function raw_alloc(bytes: usize): usize {
  if (rawTop == 0) rawTop = segment.align16(__heap_base);
  const start = rawTop;
  const end = start + segment.align16(bytes);
  const havePages = <usize>memory.size();
  const needPages = (end + segment.PAGE_BYTES - 1) / segment.PAGE_BYTES;
  if (needPages > havePages && memory.grow(<i32>(needPages - havePages)) < 0) return 0;
  rawTop = end;
  return start;
}

/** Frees all raw scratch at once. */
export function raw_reset(): void {
  rawTop = 0;
}

export function l2sq_f32(a: usize, b: usize, dim: i32): f32 {
  return l2sq(a, b, dim);
}

export function dot_f32(a: usize, b: usize, dim: i32): f32 {
  return dot(a, b, dim);
}

/** 1 − a·b: the cosine distance of vectors already normalized. */
export function cosine_distance_f32(a: usize, b: usize, dim: i32): f32 {
  return 1.0 - dot(a, b, dim);
}

export function normalize_f32(v: usize, dim: i32): i32 {
  return normalize(v, dim) ? 1 : 0;
}

/** Distances from the query to `count` contiguous vectors, written to `output`. */
export function score_batch_f32(metric: i32, query: usize, vectors: usize, count: i32, dim: i32, output: usize): void {
  const stride = <usize>dim << 2;
  for (let i = 0; i < count; i++) {
    store<f32>(output + (<usize>i << 2), distanceOf(metric, query, vectors + <usize>i * stride, dim));
  }
}

/** Exact k nearest of `count` contiguous vectors: (distance, index) pairs to `output`, ascending. */
export function top_k_f32(metric: i32, query: usize, vectors: usize, count: i32, dim: i32, k: i32, output: usize): i32 {
  const stride = <usize>dim << 2;
  let size = 0;
  for (let i = 0; i < count; i++) {
    const d = distanceOf(metric, query, vectors + <usize>i * stride, dim);
    if (size < k || d < entryDistance(output, size - 1)) size = listInsert(output, size, k, d, <u32>i);
  }
  return size;
}

// ---- segment ---------------------------------------------------------------

export function init_segment(dim: i32, metric: i32, m: i32, efConstruction: i32, listCapacity: i32, seedLow: u32, seedHigh: u32): i32 {
  const status = segment.initSegment(dim, metric, m, efConstruction, listCapacity);
  if (status == 0) seedRandom((<u64>seedHigh << 32) | <u64>seedLow);
  return status;
}

/** Joins the segment another instance made in this shared memory, with scratch of its own. */
export function attach_segment(): i32 {
  return segment.attachSegment();
}

/** Reserves room for `slots` slots and `poolBytes` of upper links; 1 on success. */
export function reserve_segment(slots: i32, poolBytes: usize): i32 {
  return segment.reserve(slots, poolBytes) ? 1 : 0;
}

/**
 * Inserts the vector in the input buffer; returns its slot or a negative
 * status. `prepared` = 1 stores an already normalized vector as it is.
 */
export function insert_node(graph: i32, prepared: i32): i32 {
  return insertNode(segment.inputBase, graph != 0, prepared != 0);
}

export function delete_node(slot: u32): i32 {
  return deleteNode(slot);
}

/** Copies the input buffer to the query buffer, normalizing for cosine; 0 for a zero cosine query. */
export function prepare_query(): i32 {
  memory.copy(segment.queryBase, segment.inputBase, <usize>segment.dim << 2);
  memory.fill(segment.queryBase + (<usize>segment.dim << 2), 0, <usize>(segment.dimPadded - segment.dim) << 2);
  if (segment.metric != METRIC_COSINE) return 1;
  return normalize(segment.queryBase, segment.dim) ? 1 : 0;
}

/** Hits written to the output list, or a negative status when scratch memory cannot grow. */
export function search_graph(k: i32, ef: i32, useAllow: i32): i32 {
  return searchGraph(segment.queryBase, k, ef, useAllow != 0, segment.outputList);
}

export function search_exact(k: i32, useAllow: i32): i32 {
  return searchExact(segment.queryBase, k, useAllow != 0, segment.outputList);
}

export function restore_segment(count: i32, deleted: i32, poolUsed: usize, entry: u32, maxLevel: i32): void {
  segment.restoreState(count, deleted, poolUsed, entry, maxLevel);
}

export function node_level(slot: u32): i32 {
  return nodeLevel(slot);
}

/** Level-0 in-degree as the kernel counts it (integrity checks compare it with the links). */
export function node_in_degree(slot: u32): u32 {
  return load<u32>(segment.recordOf(slot) + segment.inDegreeOffset);
}

export function node_links_ptr(slot: u32, level: i32): usize {
  return segment.linksOf(slot, level);
}

export function random_state_low(): u32 {
  return <u32>randomState();
}

export function random_state_high(): u32 {
  return <u32>(randomState() >> 32);
}

export function set_random_state(low: u32, high: u32): void {
  seedRandom((<u64>high << 32) | <u64>low);
}

/** An allow-list bitset of `slots` bits, cleared, for the host to fill; 0 when memory cannot grow. */
export function prepare_allow(slots: u32): usize {
  return segment.prepareAllow(slots);
}

// Layout and counters, read by the host to build typed views and to serialize.
export function header_ptr(): usize { return segment.header; }
export function lock_offset(): usize { return segment.H_LOCK; }
export function input_ptr(): usize { return segment.inputBase; }
export function output_ptr(): usize { return segment.outputList; }
export function record_ptr(slot: u32): usize { return segment.recordOf(slot); }
export function record_chunk_ptr(index: u32): usize { return segment.recordChunk(index); }
export function chunk_slots(): u32 { return segment.chunkSlots(); }
export function slots_max(): u32 { return segment.slotsMax(); }
export function pool_chunk_ptr(index: u32): usize { return segment.poolChunk(index); }
export function pool_chunk_bytes(): usize { return segment.POOL_CHUNK_BYTES; }
export function record_bytes(): usize { return segment.recordBytes; }
export function meta_offset(): usize { return segment.metaOffset; }
export function capacity(): i32 { return segment.capacity(); }
export function pool_capacity_bytes(): usize { return segment.poolCapacityBytes(); }
export function node_count(): i32 { return segment.publishedCount(); }
export function deleted_count(): i32 { return segment.deletedCount(); }
export function pool_used_bytes(): usize { return segment.poolUsedBytes(); }
export function entry_point(): u32 { return segment.entryPoint(); }
export function max_level(): i32 { return segment.maxLevel(); }
export function used_bytes(): usize { return segment.usedBytes(); }
