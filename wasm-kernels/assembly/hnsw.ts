// HNSW graph: insert, greedy descent, layer search and neighbour selection,
// all inside the module. The graph reads vectors only through `distanceOf`.
//
// Layer search keeps one bounded sorted list of size ef (the frontier and the
// nearest-so-far at once, each entry flagged when expanded) — equivalent to the
// paper's candidate heap + result heap, since a candidate outside the ef
// nearest can never be expanded — so its memory is fixed. When results must be
// filtered (tombstones, allow-list), every visited node that qualifies is also
// offered to a separate result list of size k.

import { distanceOf } from "./distance";
import { EXPANDED, entryDistance, entryId, ID_MASK, lastInsertIndex, listInsert } from "./sorted_list";
import {
  addInDegree, beginVisit, capacity, deletedCount, dim, dimPadded, efConstruction, entryAndLevel,
  inDegreeOffset, isAllowed, isDeleted, isVisited, levelOf, linksOf, links0Offset, m, m0, markDeleted,
  metaOffset, metric, NONE, nextEpoch, normalizesVectors, allocatePool, poolCapacityBytes, poolOffsetFor,
  pruneKeptList, pruneList, publish, publishedCount, recordOf, reserve, resultList, searchList,
  selectList, setEntry, testAndSetVisited, upperBlockBytes, upperOffsetOffset, visibleCount,
} from "./segment";
import { normalize } from "./distance";
import { randomLevel } from "./rng";

export const STATUS_OK: i32 = 0;
export const STATUS_NO_MEMORY: i32 = -1;
export const STATUS_ZERO_VECTOR: i32 = -2;

const FILTER_NONE: i32 = 0;
const FILTER_LIVE: i32 = 1; // skip tombstones
const FILTER_ALLOWED: i32 = 2; // skip tombstones and nodes outside the allow-list

let greedyNode: u32 = 0;
let greedyDistance: f32 = 0;
let resultSize: i32 = 0;

// @ts-ignore: decorator
@inline
function distance(a: usize, b: usize): f32 {
  return distanceOf(metric, a, b, dimPadded);
}

// @ts-ignore: decorator
@inline
function qualifies(node: u32, filter: i32): bool {
  if (filter == FILTER_NONE) return true;
  if (isDeleted(node)) return false;
  return filter == FILTER_LIVE || isAllowed(node);
}

function offerResult(node: u32, d: f32, k: i32, filter: i32): void {
  if (!qualifies(node, filter)) return;
  if (resultSize == k && !(d < entryDistance(resultList, k - 1))) return;
  resultSize = listInsert(resultList, resultSize, k, d, node);
}

/** Greedy walk at one upper level towards `query`; leaves the result in greedyNode/greedyDistance. */
function greedyDescend(query: usize, level: i32): void {
  let changed = true;
  while (changed) {
    changed = false;
    const links = linksOf(greedyNode, level);
    const n = load<u32>(links);
    for (let j: u32 = 0; j < n; j++) {
      const neighbour = load<u32>(links + 4 + (<usize>j << 2));
      if (neighbour >= visibleCount) continue; // not published when this operation began
      const d = distance(query, recordOf(neighbour));
      if (d < greedyDistance) {
        greedyDistance = d;
        greedyNode = neighbour;
        changed = true;
      }
    }
  }
}

/**
 * Best-first search of one level from `start`, with a frontier of `ef`
 * entries in `searchList`. With a filter, qualifying visited nodes also go to
 * `resultList` (size ≤ k). Returns the frontier's size.
 */
function searchLayer(query: usize, start: u32, startDistance: f32, ef: i32, level: i32, k: i32, filter: i32): i32 {
  nextEpoch();
  testAndSetVisited(start);
  let size = listInsert(searchList, 0, ef, startDistance, start);
  if (filter != FILTER_NONE) offerResult(start, startDistance, k, filter);
  let cursor = 0;
  while (true) {
    while (cursor < size && (entryId(searchList, cursor) & EXPANDED) != 0) cursor++;
    if (cursor >= size) break;
    const entry = searchList + (<usize>cursor << 3);
    const current = load<u32>(entry, 4);
    store<u32>(entry, current | EXPANDED, 4);
    let nextCursor = cursor + 1;
    const links = linksOf(current, level);
    const n = load<u32>(links);
    for (let j: u32 = 0; j < n; j++) {
      const neighbour = load<u32>(links + 4 + (<usize>j << 2));
      if (neighbour >= visibleCount || testAndSetVisited(neighbour)) continue;
      const d = distance(query, recordOf(neighbour));
      if (size < ef || d < entryDistance(searchList, size - 1)) {
        size = listInsert(searchList, size, ef, d, neighbour);
        if (lastInsertIndex < nextCursor) nextCursor = lastInsertIndex;
      }
      if (filter != FILTER_NONE) offerResult(neighbour, d, k, filter);
    }
    cursor = nextCursor;
  }
  return size;
}

/**
 * The paper's neighbour-selection heuristic: walk candidates nearest first
 * and keep one only if it is closer to the base than to every kept neighbour.
 * `source` is sorted ascending; writes at most `limit` entries to `target`.
 */
function selectNeighbours(source: usize, size: i32, limit: i32, target: usize): i32 {
  let kept = 0;
  for (let i = 0; i < size && kept < limit; i++) {
    const candidate = entryId(source, i) & ID_MASK;
    const toBase = entryDistance(source, i);
    const candidateVector = recordOf(candidate);
    let good = true;
    for (let j = 0; j < kept; j++) {
      if (distance(candidateVector, recordOf(entryId(target, j))) < toBase) {
        good = false;
        break;
      }
    }
    if (good) {
      store<f32>(target + (<usize>kept << 3), toBase);
      store<u32>(target + (<usize>kept << 3), candidate, 4);
      kept++;
    }
  }
  return kept;
}

/** Adds the link node → newNode at `level`, re-selecting node's neighbours when full. */
function addLink(node: u32, newNode: u32, newDistance: f32, level: i32): void {
  const limit = level == 0 ? m0 : m;
  const links = linksOf(node, level);
  const n = <i32>load<u32>(links);
  if (n < limit) {
    store<u32>(links + 4 + (<usize>n << 2), newNode);
    store<u32>(links, n + 1);
    if (level == 0) addInDegree(newNode, 1);
    return;
  }
  const base = recordOf(node);
  let size = listInsert(pruneList, 0, limit + 1, newDistance, newNode);
  for (let j = 0; j < n; j++) {
    const other = load<u32>(links + 4 + (<usize>j << 2));
    size = listInsert(pruneList, size, limit + 1, distance(base, recordOf(other)), other);
  }
  // Not selectList: the caller is iterating over it.
  const kept = selectNeighbours(pruneList, size, limit, pruneKeptList);
  for (let j = 0; j < kept; j++) store<u32>(links + 4 + (<usize>j << 2), entryId(pruneKeptList, j));
  store<u32>(links, kept);
  if (level == 0) accountPrunedLinks(links, size, kept, newNode);
}

/**
 * Level-0 bookkeeping after a prune: in-degrees follow the kept links, and a
 * node that lost its last in-link is adopted — by the new node (which lies
 * next to it) when that has room, else by taking back the place of the kept
 * neighbour that is furthest and still has other in-links. Without this the
 * heuristic slowly orphans nodes, which no search could reach again.
 */
function accountPrunedLinks(links: usize, candidates: i32, kept: i32, newNode: u32): void {
  nextEpoch();
  for (let j = 0; j < kept; j++) testAndSetVisited(entryId(pruneKeptList, j));
  if (isVisited(newNode)) addInDegree(newNode, 1);
  for (let i = 0; i < candidates; i++) {
    const dropped = entryId(pruneList, i);
    if (dropped == newNode || isVisited(dropped)) continue;
    if (addInDegree(dropped, -1) == 0) adoptOrphan(dropped, links, newNode);
  }
}

function adoptOrphan(orphan: u32, links: usize, newNode: u32): void {
  if (!appendLink(linksOf(newNode, 0), orphan)) replaceLink(links, orphan);
}

/** Appends a level-0 link if the list has room. */
function appendLink(links: usize, target: u32): bool {
  const n = load<u32>(links);
  if (n >= <u32>m0) return false;
  store<u32>(links + 4 + (<usize>n << 2), target);
  store<u32>(links, n + 1);
  addInDegree(target, 1);
  return true;
}

/** Gives `target` the place of the furthest level-0 neighbour that has other in-links. */
function replaceLink(links: usize, target: u32): bool {
  for (let j = <i32>load<u32>(links) - 1; j >= 0; j--) {
    const slot = links + 4 + (<usize>j << 2);
    const neighbour = load<u32>(slot);
    if (load<u32>(recordOf(neighbour) + inDegreeOffset) > 1) {
      addInDegree(neighbour, -1);
      store<u32>(slot, target);
      addInDegree(target, 1);
      return true;
    }
  }
  return false;
}

/** A new node that every neighbour pruned away is linked from the nearest that can take it. */
function ensureInLink(node: u32, neighbours: i32): void {
  if (load<u32>(recordOf(node) + inDegreeOffset) > 0) return;
  for (let j = 0; j < neighbours; j++) {
    if (replaceLink(linksOf(entryId(selectList, j), 0), node)) return;
  }
}

/** Writes a fresh record for `node` at `level` from the vector at `source`. */
function writeRecord(node: u32, level: i32, source: usize): void {
  const record = recordOf(node);
  memory.copy(record, source, <usize>dim << 2);
  memory.fill(record + (<usize>dim << 2), 0, <usize>(dimPadded - dim) << 2);
  store<u32>(record + metaOffset, <u32>level);
  store<u32>(record + links0Offset, 0);
  store<u32>(record + inDegreeOffset, 0);
  if (level > 0) {
    const offset = allocatePool(<usize>level * upperBlockBytes);
    store<u32>(record + upperOffsetOffset, <u32>offset);
    for (let l = 1; l <= level; l++) store<u32>(linksOf(node, l), 0);
  } else {
    store<u32>(record + upperOffsetOffset, 0);
  }
}

/** Grows capacity by half (at least 1024 slots) and the pool to match when `node` needs it. */
function ensureRoom(node: u32, level: i32, graph: bool): bool {
  const poolBytes = <usize>level * upperBlockBytes;
  const poolNeeded = level > 0 ? poolOffsetFor(poolBytes) + poolBytes : 0;
  const slots = capacity();
  const poolHave = poolCapacityBytes();
  if (<i32>node < slots && poolNeeded <= poolHave) return true;
  let newCapacity = slots;
  if (<i32>node >= slots) newCapacity = slots + (slots >> 1) > 1024 ? slots + (slots >> 1) : 1024;
  // Expected upper-link bytes per node ≈ upperBlockBytes / (m − 1); keep 50 % headroom.
  const expectedPool = <usize>newCapacity * upperBlockBytes * 3 / (<usize>(m - 1) * 2);
  let newPool = poolHave;
  if (graph && (poolNeeded > newPool || expectedPool > newPool)) {
    newPool = expectedPool > poolNeeded * 3 / 2 ? expectedPool : poolNeeded * 3 / 2;
  }
  return reserve(newCapacity, newPool);
}

/**
 * Inserts the vector at `source` (dim floats) as a new node and links it into
 * the graph unless `graph` is false (brute-force segments). `prepared` says
 * the vector is already normalized (copied from a segment), so it is stored
 * bit for bit. Returns its slot, or a negative status.
 */
export function insertNode(source: usize, graph: bool, prepared: bool): i32 {
  if (!prepared && normalizesVectors() && !normalize(source, dim)) return STATUS_ZERO_VECTOR;
  const node = <u32>publishedCount();
  const level = graph ? randomLevel() : 0;
  if (!ensureRoom(node, level, graph)) return STATUS_NO_MEMORY;
  writeRecord(node, level, source);
  const entryLevel = entryAndLevel();
  const entry = <u32>entryLevel;
  const top = <i32>(entryLevel >> 32);
  if (!graph || entry == NONE) {
    publish(node + 1);
    if (graph) setEntry(node, level);
    return <i32>node;
  }
  // The new node itself is marked visited while pruning neighbours: cover it too.
  if (!beginVisit(1)) return STATUS_NO_MEMORY;
  const query = recordOf(node);
  greedyNode = entry;
  greedyDistance = distance(query, recordOf(entry));
  for (let l = top; l > level; l--) greedyDescend(query, l);
  for (let l = level < top ? level : top; l >= 0; l--) {
    const size = searchLayer(query, greedyNode, greedyDistance, efConstruction, l, 0, FILTER_NONE);
    const kept = selectNeighbours(searchList, size, m, selectList);
    const links = linksOf(node, l);
    for (let j = 0; j < kept; j++) {
      const neighbour = entryId(selectList, j);
      store<u32>(links + 4 + (<usize>j << 2), neighbour);
      if (l == 0) addInDegree(neighbour, 1);
    }
    store<u32>(links, kept);
    for (let j = 0; j < kept; j++) {
      addLink(entryId(selectList, j), node, entryDistance(selectList, j), l);
    }
    if (l == 0) ensureInLink(node, kept);
    greedyNode = entryId(searchList, 0) & ID_MASK;
    greedyDistance = entryDistance(searchList, 0);
  }
  publish(node + 1);
  if (level > top) setEntry(node, level);
  return <i32>node;
}

/** Marks `node` deleted; returns 1 if it was live, 0 if already deleted or out of range. */
export function deleteNode(node: u32): i32 {
  if (node >= <u32>publishedCount()) return 0;
  return markDeleted(node) ? 1 : 0;
}

/**
 * k nearest qualifying nodes to the (prepared) query, written to `output`
 * sorted ascending; returns how many. `useAllow` restricts results to the
 * allow-list bitset; the frontier still walks through every node.
 */
export function searchGraph(query: usize, k: i32, ef: i32, useAllow: bool, output: usize): i32 {
  // Entry first, then the count (in beginVisit): a published entry is below that count.
  const entryLevel = entryAndLevel();
  const entry = <u32>entryLevel;
  if (entry == NONE) return 0;
  if (!beginVisit(0)) return STATUS_NO_MEMORY;
  greedyNode = entry;
  greedyDistance = distance(query, recordOf(entry));
  for (let l = <i32>(entryLevel >> 32); l > 0; l--) greedyDescend(query, l);
  const filter = useAllow ? FILTER_ALLOWED : (deletedCount() > 0 ? FILTER_LIVE : FILTER_NONE);
  resultSize = 0;
  const size = searchLayer(query, greedyNode, greedyDistance, ef < k ? k : ef, 0, k, filter);
  if (filter == FILTER_NONE) {
    const n = size < k ? size : k;
    for (let i = 0; i < n; i++) {
      store<f32>(output + (<usize>i << 3), entryDistance(searchList, i));
      store<u32>(output + (<usize>i << 3), entryId(searchList, i) & ID_MASK, 4);
    }
    return n;
  }
  memory.copy(output, resultList, <usize>resultSize << 3);
  return resultSize;
}

/** Exact top-k over every qualifying slot of the segment. */
export function searchExact(query: usize, k: i32, useAllow: bool, output: usize): i32 {
  const filter = useAllow ? FILTER_ALLOWED : (deletedCount() > 0 ? FILTER_LIVE : FILTER_NONE);
  const count = <u32>publishedCount();
  let size = 0;
  for (let node: u32 = 0; node < count; node++) {
    if (!qualifies(node, filter)) continue;
    const d = distance(query, recordOf(node));
    if (size < k || d < entryDistance(output, size - 1)) size = listInsert(output, size, k, d, node);
  }
  return size;
}

/** Level of a node, for integrity checks from the host. */
export function nodeLevel(node: u32): i32 {
  return levelOf(node);
}
