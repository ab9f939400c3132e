// One segment's linear memory: parameters, a fixed scratch area, and regions
// that grow with the number of slots.
//
//   __heap_base ─┬─ scratch (fixed at init): input vector, query vector,
//                │   search list, result list, output, three selection lists
//   recordsBase ─┼─ records: capacity × recordBytes
//                │     [vector: dimPadded f32][meta u32][upperOffset u32]
//                │     [level-0 link count u32][m0 × u32 links]
//                │     [level-0 in-degree u32][pad to 16]
//   visitedBase ─┼─ visited epochs: capacity × u16
//   allowBase   ─┼─ allow-list bitset: capacity bits
//   poolBase    ─┴─ upper-level links: poolCapacityBytes, bump-allocated;
//                    a node of level L owns L blocks of [count u32][m × u32]
//
// meta = level (bits 0..7) | DELETED (bit 8). The in-degree lets neighbour
// pruning notice when it would orphan a node (see hnsw.ts). Vector and level-0 links of a
// node share one record, so expanding a node and scoring it touch one place.
// Growing moves regions from last to first (each new offset ≥ the old one),
// so no extra copy space is needed and no memory is wasted.

import { METRIC_COSINE } from "./distance";

export const NONE: u32 = 0xffffffff;
export const DELETED: u32 = 0x100;
export const LEVEL_MASK: u32 = 0xff;
export const MAX_LEVEL: i32 = 15;
export const PAGE_BYTES: usize = 65536;

// Parameters (set once by init).
export let dim: i32 = 0;
export let dimPadded: i32 = 0;
export let metric: i32 = 0;
export let m: i32 = 0;
export let m0: i32 = 0;
export let efConstruction: i32 = 0;
export let listCapacity: i32 = 0;
export let levelMultiplier: f64 = 0;
export let recordBytes: usize = 0;
export let metaOffset: usize = 0;
export let upperOffsetOffset: usize = 0;
export let links0Offset: usize = 0;
export let inDegreeOffset: usize = 0;
export let upperBlockBytes: usize = 0;

// Scratch regions.
export let inputBase: usize = 0;
export let queryBase: usize = 0;
export let searchList: usize = 0;
export let resultList: usize = 0;
export let selectList: usize = 0;
export let pruneList: usize = 0;
export let pruneKeptList: usize = 0;
export let outputList: usize = 0;

// Growing regions.
export let recordsBase: usize = 0;
export let visitedBase: usize = 0;
export let allowBase: usize = 0;
export let poolBase: usize = 0;
export let capacity: i32 = 0;
export let poolCapacityBytes: usize = 0;

// State.
export let count: i32 = 0;
export let deletedCount: i32 = 0;
export let poolUsedBytes: usize = 0;
export let entryPoint: u32 = NONE;
export let maxLevel: i32 = -1;
export let epoch: u32 = 0;

// @ts-ignore: decorator
@inline
export function align16(bytes: usize): usize {
  return (bytes + 15) & ~(<usize>15);
}

/**
 * Sets the parameters and lays out the scratch area. Returns 0, or a negative
 * status when memory cannot be had.
 */
export function initSegment(
  dimension: i32,
  metricCode: i32,
  mValue: i32,
  efConstructionValue: i32,
  listCapacityValue: i32,
): i32 {
  dim = dimension;
  dimPadded = (dimension + 3) & ~3;
  metric = metricCode;
  m = mValue;
  m0 = 2 * mValue;
  efConstruction = efConstructionValue;
  listCapacity = listCapacityValue;
  levelMultiplier = 1.0 / Math.log(<f64>mValue);
  metaOffset = <usize>dimPadded << 2;
  upperOffsetOffset = metaOffset + 4;
  links0Offset = metaOffset + 8;
  inDegreeOffset = links0Offset + 4 + (<usize>m0 << 2);
  recordBytes = align16(inDegreeOffset + 4);
  upperBlockBytes = <usize>(1 + m) << 2;

  const vectorBytes = align16(<usize>dimPadded << 2);
  const listBytes = align16(<usize>listCapacity << 3);
  const selectBytes = align16(<usize>(m0 + 1) << 3);
  inputBase = align16(__heap_base);
  queryBase = inputBase + vectorBytes;
  searchList = queryBase + vectorBytes;
  resultList = searchList + listBytes;
  outputList = resultList + listBytes;
  selectList = outputList + listBytes;
  pruneList = selectList + selectBytes;
  pruneKeptList = pruneList + selectBytes;
  recordsBase = align16(pruneKeptList + selectBytes);
  capacity = 0;
  poolCapacityBytes = 0;
  visitedBase = recordsBase;
  allowBase = recordsBase;
  poolBase = recordsBase;
  count = 0;
  deletedCount = 0;
  poolUsedBytes = 0;
  entryPoint = NONE;
  maxLevel = -1;
  epoch = 0;
  return ensureMemory(recordsBase) ? 0 : -1;
}

function ensureMemory(endBytes: usize): bool {
  const havePages = <usize>memory.size();
  const needPages = (endBytes + PAGE_BYTES - 1) / PAGE_BYTES;
  if (needPages <= havePages) return true;
  if (needPages > 65536) return false;
  return memory.grow(<i32>(needPages - havePages)) >= 0;
}

/**
 * Grows the slot capacity and the upper-link pool to at least the given sizes
 * (never shrinks). Returns false when linear memory cannot grow that far.
 */
export function reserve(slotCount: i32, poolBytes: usize): bool {
  const newCapacity = slotCount > capacity ? slotCount : capacity;
  const newPool = align16(poolBytes > poolCapacityBytes ? poolBytes : poolCapacityBytes);
  if (newCapacity == capacity && newPool == poolCapacityBytes) return true;
  const newVisited = recordsBase + <usize>newCapacity * recordBytes;
  const newAllow = newVisited + align16(<usize>newCapacity << 1);
  const newPoolBase = newAllow + align16(((<usize>newCapacity + 31) >> 5) << 2);
  const end = newPoolBase + newPool;
  if (end < newPoolBase || !ensureMemory(end)) return false;

  const oldVisitedBytes = <usize>capacity << 1;
  const oldAllowBytes = ((<usize>capacity + 31) >> 5) << 2;
  memory.copy(newPoolBase, poolBase, poolUsedBytes);
  memory.copy(newAllow, allowBase, oldAllowBytes);
  memory.fill(newAllow + oldAllowBytes, 0, newPoolBase - newAllow - oldAllowBytes);
  memory.copy(newVisited, visitedBase, oldVisitedBytes);
  memory.fill(newVisited + oldVisitedBytes, 0, newAllow - newVisited - oldVisitedBytes);
  visitedBase = newVisited;
  allowBase = newAllow;
  poolBase = newPoolBase;
  capacity = newCapacity;
  poolCapacityBytes = newPool;
  return true;
}

/** Bytes of linear memory the segment's regions end at. */
export function usedBytes(): usize {
  return poolBase + poolCapacityBytes;
}

// @ts-ignore: decorator
@inline
export function recordOf(node: u32): usize {
  return recordsBase + <usize>node * recordBytes;
}

// @ts-ignore: decorator
@inline
export function levelOf(node: u32): i32 {
  return <i32>(load<u32>(recordOf(node) + metaOffset) & LEVEL_MASK);
}

// @ts-ignore: decorator
@inline
export function isDeleted(node: u32): bool {
  return (load<u32>(recordOf(node) + metaOffset) & DELETED) != 0;
}

// @ts-ignore: decorator
@inline
export function isAllowed(node: u32): bool {
  return (load<u8>(allowBase + (<usize>node >> 3)) & (<u8>1 << <u8>(node & 7))) != 0;
}

/** Address of a node's link block at `level` ([count u32][ids…]). */
// @ts-ignore: decorator
@inline
export function linksOf(node: u32, level: i32): usize {
  const record = recordOf(node);
  if (level == 0) return record + links0Offset;
  return poolBase + <usize>load<u32>(record + upperOffsetOffset) +
    <usize>(level - 1) * upperBlockBytes;
}

/** Adds `delta` to a node's level-0 in-degree; returns the new value. */
export function addInDegree(node: u32, delta: i32): u32 {
  const p = recordOf(node) + inDegreeOffset;
  const value = <u32>(<i32>load<u32>(p) + delta);
  store<u32>(p, value);
  return value;
}

/** Whether `node` was marked in the current epoch (without marking it). */
// @ts-ignore: decorator
@inline
export function isVisited(node: u32): bool {
  return <u32>load<u16>(visitedBase + (<usize>node << 1)) == epoch;
}

/** Starts a new visit; every node's tag is now stale. */
export function nextEpoch(): u32 {
  epoch = (epoch + 1) & 0xffff;
  if (epoch == 0) {
    memory.fill(visitedBase, 0, <usize>capacity << 1);
    epoch = 1;
  }
  return epoch;
}

/** Marks `node` visited in the current epoch; returns true if it already was. */
// @ts-ignore: decorator
@inline
export function testAndSetVisited(node: u32): bool {
  const p = visitedBase + (<usize>node << 1);
  if (<u32>load<u16>(p) == epoch) return true;
  store<u16>(p, <u16>epoch);
  return false;
}

/** Allocates `bytes` from the upper-link pool; the caller has reserved room. */
export function allocatePool(bytes: usize): usize {
  const offset = poolUsedBytes;
  poolUsedBytes += bytes;
  return offset;
}

export function setEntry(node: u32, level: i32): void {
  entryPoint = node;
  maxLevel = level;
}

export function addSlot(): u32 {
  const slot = <u32>count;
  count++;
  return slot;
}

export function noteDeleted(): void {
  deletedCount++;
}

/** Restores the counters of a segment whose regions were copied in by the host. */
export function restoreState(
  slotCount: i32,
  deleted: i32,
  poolUsed: usize,
  entry: u32,
  level: i32,
): void {
  count = slotCount;
  deletedCount = deleted;
  poolUsedBytes = poolUsed;
  entryPoint = entry;
  maxLevel = level;
}

/** Whether stored vectors of this segment are normalized at write. */
export function normalizesVectors(): bool {
  return metric == METRIC_COSINE;
}
