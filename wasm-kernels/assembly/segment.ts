// One segment's memory, shared by every instance attached to it (the request
// thread searching, a worker inserting):
//
//   __heap_base ─ header: the counters and parameters every instance reads,
//                 and the chunk tables
//   then bump-allocated, in the order needed, never moved or freed:
//     - each instance's scratch: input and query vectors, search, result and
//       output lists, three selection lists; its visited epochs and its
//       allow-list bitset (these two grow by allocating anew);
//     - record chunks of 2^chunkShift slots, one record per slot:
//         [vector: dimPadded f32][meta u32][upperOffset u32]
//         [level-0 link count u32][m0 × u32 links][level-0 in-degree u32][pad to 16]
//     - pool chunks of POOL_CHUNK_BYTES holding the upper-level links: a node
//       of level L owns L blocks of [count u32][m × u32] at a pool offset, and
//       a node's blocks never cross a chunk's end.
//
// meta = level (bits 0..7) | DELETED (bit 8). The in-degree lets neighbour
// pruning notice when it would orphan a node (see hnsw.ts). Vector and level-0
// links of a node share one record, so expanding a node and scoring it touch
// one place.
//
// One writer, many readers. Inserts run under the host's lock (the header's
// first word); searches take no lock. A node is published by storing `count`
// atomically after its record and every link to and from it are written; a
// reader loads `count` once per operation and skips any slot at or above it,
// so every id it follows is a whole node. Entry point and top level change
// together in one 64-bit atomic store, after the count. A reader may see a
// neighbour list half old and half new: every id in it is still a published
// node. Tombstones are set with an atomic or by the thread that owns the ids.

import { METRIC_COSINE } from "./distance";

export const NONE: u32 = 0xffffffff;
export const DELETED: u32 = 0x100;
export const LEVEL_MASK: u32 = 0xff;
export const MAX_LEVEL: i32 = 15;
export const PAGE_BYTES: usize = 65536;
const PAGES_MAX: u64 = 65536;

const RECORD_CHUNK_BYTES_TARGET: usize = 1 << 20;
const RECORD_CHUNKS_MAX: usize = 8192;
const POOL_CHUNK_SHIFT: usize = 20;
export const POOL_CHUNK_BYTES: usize = 1 << POOL_CHUNK_SHIFT;
const POOL_CHUNKS_MAX: usize = 4096;

// Header offsets.
export const H_LOCK: usize = 0; // i32: the host's writer lock
const H_TOP: usize = 4; // u32: end of allocated memory
const H_COUNT: usize = 8; // i32: published slots
const H_DELETED: usize = 12; // i32: tombstones
const H_CAPACITY: usize = 16; // i32: slots in allocated record chunks
const H_POOL_USED: usize = 20; // u32: pool bytes handed out
const H_POOL_CAPACITY: usize = 24; // u32: pool bytes in allocated chunks
const H_ENTRY: usize = 32; // u64: entry point (low word) | top level (high word)
export const H_RANDOM: usize = 40; // u64: the level generator's state
const H_PARAMS: usize = 48; // i32 × 5: dim, metric, m, efConstruction, listCapacity
const H_RECORD_CHUNKS: usize = 80; // u32 × RECORD_CHUNKS_MAX
const H_POOL_CHUNKS: usize = H_RECORD_CHUNKS + (RECORD_CHUNKS_MAX << 2); // u32 × POOL_CHUNKS_MAX
const HEADER_BYTES: usize = H_POOL_CHUNKS + (POOL_CHUNKS_MAX << 2);

/** The header's address (set by init or attach): the same in every instance of the module. */
export let header: usize = 0;

// Parameters (copied from the header by init or attach).
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
let chunkShift: u32 = 0;
let chunkMask: u32 = 0;

// This instance's scratch.
export let inputBase: usize = 0;
export let queryBase: usize = 0;
export let searchList: usize = 0;
export let resultList: usize = 0;
export let selectList: usize = 0;
export let pruneList: usize = 0;
export let pruneKeptList: usize = 0;
export let outputList: usize = 0;
let visitedBase: usize = 0;
let visitedSlots: u32 = 0;
let allowBase: usize = 0;
let allowSlots: u32 = 0;
let epoch: u32 = 0;
/** Slots this instance's current operation may touch: `count` when it began. */
export let visibleCount: u32 = 0;

// @ts-ignore: decorator
@inline
export function align16(bytes: usize): usize {
  return (bytes + 15) & ~(<usize>15);
}

function ensureMemory(end: u64): bool {
  const needPages = (end + <u64>PAGE_BYTES - 1) / <u64>PAGE_BYTES;
  if (needPages > PAGES_MAX) return false;
  while (true) {
    const havePages = <u64>memory.size();
    if (needPages <= havePages) return true;
    // Another instance may grow the same memory at the same time: look again.
    if (memory.grow(<i32>(needPages - havePages)) < 0 && <u64>memory.size() < needPages) return false;
  }
}

/** Allocates `bytes` (16-aligned, zeroed: nothing is ever freed); 0 when memory cannot grow. */
function allocate(bytes: usize): usize {
  const size = <u64>align16(bytes);
  while (true) {
    const start = atomic.load<u32>(header + H_TOP);
    const end = <u64>start + size;
    if (end > PAGES_MAX * <u64>PAGE_BYTES) return 0;
    if (atomic.cmpxchg<u32>(header + H_TOP, start, <u32>end) == start) {
      return ensureMemory(end) ? <usize>start : 0;
    }
  }
}

function setParams(dimension: i32, metricCode: i32, mValue: i32, efConstructionValue: i32, listCapacityValue: i32): void {
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
  chunkShift = 0;
  while ((recordBytes << (chunkShift + 1)) <= RECORD_CHUNK_BYTES_TARGET) chunkShift++;
  chunkMask = (<u32>1 << chunkShift) - 1;
}

/** Lays out this instance's scratch; false when memory cannot be had. */
function allocateScratch(): bool {
  const vectorBytes = align16(<usize>dimPadded << 2);
  const listBytes = align16(<usize>listCapacity << 3);
  const selectBytes = align16(<usize>(m0 + 1) << 3);
  const base = allocate(2 * vectorBytes + 3 * listBytes + 3 * selectBytes);
  if (base == 0) return false;
  inputBase = base;
  queryBase = inputBase + vectorBytes;
  searchList = queryBase + vectorBytes;
  resultList = searchList + listBytes;
  outputList = resultList + listBytes;
  selectList = outputList + listBytes;
  pruneList = selectList + selectBytes;
  pruneKeptList = pruneList + selectBytes;
  visitedBase = 0;
  visitedSlots = 0;
  allowBase = 0;
  allowSlots = 0;
  epoch = 0;
  return true;
}

/**
 * Makes an empty segment in this instance's (fresh) memory: header,
 * parameters and this instance's scratch. Returns 0, or −1 when memory
 * cannot be had.
 */
export function initSegment(
  dimension: i32,
  metricCode: i32,
  mValue: i32,
  efConstructionValue: i32,
  listCapacityValue: i32,
): i32 {
  header = align16(__heap_base);
  if (!ensureMemory(<u64>(header + HEADER_BYTES))) return -1;
  memory.fill(header, 0, HEADER_BYTES);
  store<u32>(header + H_TOP, <u32>(header + HEADER_BYTES));
  store<i32>(header + H_PARAMS, dimension);
  store<i32>(header + H_PARAMS + 4, metricCode);
  store<i32>(header + H_PARAMS + 8, mValue);
  store<i32>(header + H_PARAMS + 12, efConstructionValue);
  store<i32>(header + H_PARAMS + 16, listCapacityValue);
  setEntry(NONE, -1);
  setParams(dimension, metricCode, mValue, efConstructionValue, listCapacityValue);
  return allocateScratch() ? 0 : -1;
}

/** Joins a segment another instance made in this (shared) memory. Returns 0 or −1. */
export function attachSegment(): i32 {
  header = align16(__heap_base);
  setParams(
    load<i32>(header + H_PARAMS),
    load<i32>(header + H_PARAMS + 4),
    load<i32>(header + H_PARAMS + 8),
    load<i32>(header + H_PARAMS + 12),
    load<i32>(header + H_PARAMS + 16),
  );
  return allocateScratch() ? 0 : -1;
}

/** Slots one record chunk holds. */
export function chunkSlots(): u32 {
  return <u32>1 << chunkShift;
}

/** Most slots the chunk table can address. */
export function slotsMax(): u32 {
  const slots = <u64>RECORD_CHUNKS_MAX << chunkShift;
  return slots > 0x7fffffff ? 0x7fffffff : <u32>slots;
}

export function capacity(): i32 {
  return atomic.load<i32>(header + H_CAPACITY);
}

export function poolCapacityBytes(): usize {
  return <usize>atomic.load<u32>(header + H_POOL_CAPACITY);
}

/**
 * Grows the slot capacity and the upper-link pool to at least the given sizes
 * (never shrinks), each in one allocation, so a segment reserved at once (a
 * restore) has its records and its pool contiguous. Returns false when memory
 * cannot grow that far. Only the writer calls it.
 */
export function reserve(slotCount: i32, poolBytes: usize): bool {
  const have = capacity();
  if (slotCount > have) {
    const chunkBytes = recordBytes << chunkShift;
    const first = <usize>have >> chunkShift;
    const last = (<usize>(slotCount - 1) >> chunkShift) + 1;
    if (last > RECORD_CHUNKS_MAX) return false;
    const base = allocate((last - first) * chunkBytes);
    if (base == 0) return false;
    for (let i = first; i < last; i++) {
      store<u32>(header + H_RECORD_CHUNKS + (i << 2), <u32>(base + (i - first) * chunkBytes));
    }
    atomic.store<i32>(header + H_CAPACITY, <i32>(last << chunkShift));
  }
  const havePool = poolCapacityBytes();
  if (poolBytes > havePool) {
    const first = havePool >> POOL_CHUNK_SHIFT;
    const last = ((poolBytes - 1) >> POOL_CHUNK_SHIFT) + 1;
    if (last > POOL_CHUNKS_MAX) return false;
    const base = allocate((last - first) << POOL_CHUNK_SHIFT);
    if (base == 0) return false;
    for (let i = first; i < last; i++) {
      store<u32>(header + H_POOL_CHUNKS + (i << 2), <u32>(base + ((i - first) << POOL_CHUNK_SHIFT)));
    }
    atomic.store<u32>(header + H_POOL_CAPACITY, <u32>(last << POOL_CHUNK_SHIFT));
  }
  return true;
}

/** Bytes of memory the segment has allocated. */
export function usedBytes(): usize {
  return <usize>atomic.load<u32>(header + H_TOP);
}

/** Address of the first record of chunk `index`. */
export function recordChunk(index: u32): usize {
  return <usize>load<u32>(header + H_RECORD_CHUNKS + (<usize>index << 2));
}

/** Address of pool chunk `index`. */
export function poolChunk(index: u32): usize {
  return <usize>load<u32>(header + H_POOL_CHUNKS + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline
export function recordOf(node: u32): usize {
  return <usize>load<u32>(header + H_RECORD_CHUNKS + (<usize>(node >> chunkShift) << 2)) +
    <usize>(node & chunkMask) * recordBytes;
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

/** Sets a node's tombstone; returns false when it already was one. */
export function markDeleted(node: u32): bool {
  const before = atomic.or<u32>(recordOf(node) + metaOffset, DELETED);
  if ((before & DELETED) != 0) return false;
  store<i32>(header + H_DELETED, load<i32>(header + H_DELETED) + 1);
  return true;
}

// @ts-ignore: decorator
@inline
export function isAllowed(node: u32): bool {
  return node < allowSlots &&
    (load<u8>(allowBase + (<usize>node >> 3)) & (<u8>1 << <u8>(node & 7))) != 0;
}

/** An allow-list bitset of at least `slots` bits for the host to fill; 0 when memory cannot grow. */
export function prepareAllow(slots: u32): usize {
  const words = (<usize>slots + 31) >> 5;
  if (slots > allowSlots || allowBase == 0) {
    const room = slots > 1024 ? slots + (slots >> 1) : 1024;
    const base = allocate(((<usize>room + 31) >> 5) << 2);
    if (base == 0) return 0;
    allowBase = base;
  }
  memory.fill(allowBase, 0, words << 2);
  allowSlots = slots;
  return allowBase;
}

/** Address of a node's link block at `level` ([count u32][ids…]). */
// @ts-ignore: decorator
@inline
export function linksOf(node: u32, level: i32): usize {
  const record = recordOf(node);
  if (level == 0) return record + links0Offset;
  const offset = <usize>load<u32>(record + upperOffsetOffset);
  return poolChunk(<u32>(offset >> POOL_CHUNK_SHIFT)) + (offset & (POOL_CHUNK_BYTES - 1)) +
    <usize>(level - 1) * upperBlockBytes;
}

/** Adds `delta` to a node's level-0 in-degree; returns the new value. */
export function addInDegree(node: u32, delta: i32): u32 {
  const p = recordOf(node) + inDegreeOffset;
  const value = <u32>(<i32>load<u32>(p) + delta);
  store<u32>(p, value);
  return value;
}

/**
 * Starts an operation: fixes the slots it may see at the published count and
 * makes this instance's visited epochs cover them and `extra` more. False when
 * memory cannot grow.
 */
export function beginVisit(extra: u32): bool {
  visibleCount = <u32>publishedCount();
  const needed = visibleCount + extra;
  if (needed <= visitedSlots) return true;
  const room = needed > 1024 ? needed + (needed >> 1) : 1024;
  const base = allocate(<usize>room << 1);
  if (base == 0) return false;
  visitedBase = base;
  visitedSlots = room;
  epoch = 0;
  return true;
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
    memory.fill(visitedBase, 0, <usize>visitedSlots << 1);
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

/**
 * Hands out `bytes` (at most one chunk) of the upper-link pool, never across a
 * chunk's end; the caller has reserved room (see {@linkcode poolOffsetFor}).
 */
export function allocatePool(bytes: usize): usize {
  const offset = poolOffsetFor(bytes);
  store<u32>(header + H_POOL_USED, <u32>(offset + bytes));
  return offset;
}

/** Where the next `bytes` of pool would go. */
export function poolOffsetFor(bytes: usize): usize {
  const used = poolUsedBytes();
  const inChunk = used & (POOL_CHUNK_BYTES - 1);
  return inChunk + bytes > POOL_CHUNK_BYTES ? used - inChunk + POOL_CHUNK_BYTES : used;
}

export function poolUsedBytes(): usize {
  return <usize>load<u32>(header + H_POOL_USED);
}

export function publishedCount(): i32 {
  return atomic.load<i32>(header + H_COUNT);
}

/** Makes slots below `slots` visible to readers. */
export function publish(slots: i32): void {
  atomic.store<i32>(header + H_COUNT, slots);
}

export function deletedCount(): i32 {
  return load<i32>(header + H_DELETED);
}

export function entryPoint(): u32 {
  return <u32>atomic.load<u64>(header + H_ENTRY);
}

/** Entry point and top level, read together: (level << 32) | entry. */
export function entryAndLevel(): u64 {
  return atomic.load<u64>(header + H_ENTRY);
}

export function maxLevel(): i32 {
  return <i32>(atomic.load<u64>(header + H_ENTRY) >> 32);
}

export function setEntry(node: u32, level: i32): void {
  atomic.store<u64>(header + H_ENTRY, (<u64><u32>level << 32) | <u64>node);
}

/** Restores the counters of a segment whose records and pool the host copied in. */
export function restoreState(
  slotCount: i32,
  deleted: i32,
  poolUsed: usize,
  entry: u32,
  level: i32,
): void {
  store<i32>(header + H_DELETED, deleted);
  store<u32>(header + H_POOL_USED, <u32>poolUsed);
  publish(slotCount);
  setEntry(entry, level);
}

/** Whether stored vectors of this segment are normalized at write. */
export function normalizesVectors(): bool {
  return metric == METRIC_COSINE;
}
