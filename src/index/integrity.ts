/**
 * Graph invariants, after hnswlib's checkIntegrity: link ids in range, no
 * self-links, no duplicate links, links only to nodes that exist at that
 * level, tombstones never mapped to ids, level-0 in-degrees as counted by
 * the kernel, and every live node reachable from the entry point at level 0.
 *
 * @module
 */

import type { VectorIndex } from "./vector_index.ts";

/** What {@linkcode checkIntegrity} found. */
export interface IntegrityReport {
  /** Human-readable violations; empty when the index is sound. */
  readonly problems: string[];
  /** Live nodes over all segments. */
  readonly liveNodes: number;
  /** Live nodes reachable at level 0 from their segment's entry point. */
  readonly reachableLiveNodes: number;
  /** Links over all levels and segments. */
  readonly links: number;
}

const PROBLEMS_MAX = 50;

/**
 * Checks every invariant of every segment (a full pass: for tests and tools).
 *
 * @param index the index
 * @returns the report
 */
export function checkIntegrity(index: VectorIndex): IntegrityReport {
  const problems: string[] = [];
  let liveNodes = 0;
  let reachableLiveNodes = 0;
  let links = 0;
  index.segments.forEach((segment, s) => {
    const report = (problem: string) => {
      if (problems.length < PROBLEMS_MAX) problems.push(`segment ${s}: ${problem}`);
    };
    for (let slot = 0; slot < segment.count; slot++) {
      const deleted = segment.isDeleted(slot);
      if (!deleted) liveNodes++;
      if (deleted !== (index.slotId(s, slot) === undefined)) {
        report(`slot ${slot} is ${deleted ? "deleted but has" : "live without"} an id`);
      }
      if (!index.params.graph) continue;
      const level = segment.level(slot);
      if (level > segment.maxLevel) report(`node ${slot} level ${level} > max ${segment.maxLevel}`);
      for (let l = 0; l <= level; l++) links += checkLinks(segment, slot, l, report);
    }
    if (index.params.graph) {
      reachableLiveNodes += countReachableLive(segment);
      checkInDegrees(segment, report);
    } else reachableLiveNodes += segment.count - segment.deletedCount;
  });
  if (reachableLiveNodes !== liveNodes) {
    problems.push(`${liveNodes - reachableLiveNodes} live nodes unreachable from the entry point`);
  }
  return { problems, liveNodes, reachableLiveNodes, links };
}

type Segment = VectorIndex["segments"][number];

function checkLinks(
  segment: Segment,
  slot: number,
  level: number,
  report: (problem: string) => void,
): number {
  const neighbours = segment.links(slot, level);
  const seen = new Set<number>();
  for (const neighbour of neighbours) {
    if (neighbour >= segment.count) report(`node ${slot} L${level} links to ${neighbour} ≥ count`);
    else if (segment.level(neighbour) < level) {
      report(`node ${slot} L${level} links to ${neighbour}, which has no level ${level}`);
    }
    if (neighbour === slot) report(`node ${slot} L${level} links to itself`);
    if (seen.has(neighbour)) report(`node ${slot} L${level} links twice to ${neighbour}`);
    seen.add(neighbour);
  }
  return neighbours.length;
}

function checkInDegrees(segment: Segment, report: (problem: string) => void): void {
  const counted = new Uint32Array(segment.count);
  for (let slot = 0; slot < segment.count; slot++) {
    for (const neighbour of segment.links(slot, 0)) counted[neighbour]!++;
  }
  for (let slot = 0; slot < segment.count; slot++) {
    const kept = segment.inDegree(slot);
    if (kept !== counted[slot]) {
      report(`node ${slot} in-degree is ${kept}, links say ${counted[slot]}`);
    }
  }
}

function countReachableLive(segment: Segment): number {
  const entry = segment.entryPoint;
  if (entry === undefined) return 0;
  const visited = new Uint8Array(segment.count);
  const stack = [entry];
  visited[entry] = 1;
  let live = 0;
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (!segment.isDeleted(node)) live++;
    for (const neighbour of segment.links(node, 0)) {
      if (neighbour < segment.count && !visited[neighbour]) {
        visited[neighbour] = 1;
        stack.push(neighbour);
      }
    }
  }
  return live;
}
