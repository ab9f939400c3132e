/**
 * Turning a verified snapshot into a collection's in-memory state (graph
 * loaded without a rebuild, tail rows re-inserted, metadata parsed), and
 * choosing the newest valid snapshot at recovery. Nothing here touches a
 * running collection: the caller swaps the state in.
 *
 * @module
 */

import { CorruptionError } from "../errors.ts";
import { HnswIndex, type PointId } from "../index/mod.ts";
import type { Kernel } from "../kernel/mod.ts";
import { type FileIO, joinPath } from "../storage/file_io.ts";
import {
  GRAPH_FILE,
  listSnapshotIds,
  readSnapshot,
  type SnapshotData,
  type SnapshotManifest,
  snapshotsDir,
  VECTORS_FILE,
} from "../storage/snapshot/mod.ts";
import type { CollectionRow } from "./catalog.ts";
import { LiveIndex, type LiveIndexOptions } from "./live_index.ts";

/** Metadata of one live point: the JSON text (as logged) and a parsed private copy. */
export interface StoredMetadata {
  readonly json: string;
  readonly value: Readonly<Record<string, unknown>>;
}

/** A collection's state rebuilt from a snapshot, ready to be swapped in. */
export interface SnapshotState {
  readonly manifest: SnapshotManifest;
  readonly index: LiveIndex;
  readonly metadata: Map<PointId, StoredMetadata | undefined>;
  /** The verified files, for saving the state again at a later LSN. */
  readonly data: SnapshotData;
}

/** A snapshot that recovery skipped, and why. */
export interface RejectedSnapshot {
  readonly snapshotId: string;
  readonly error: string;
}

/** The live-index options of a collection. */
export function indexOptionsOf(row: CollectionRow): LiveIndexOptions {
  return {
    dimension: row.dimension,
    metric: row.metric,
    m: row.m,
    efConstruction: row.efConstruction,
    efSearch: row.efSearch,
  };
}

/**
 * Verifies and loads one snapshot.
 *
 * @param kernel the compiled kernel
 * @param io the file system
 * @param dir the collection's directory
 * @param row the collection
 * @param snapshotId which snapshot
 * @returns the state
 * @throws NotFoundError when there is no such snapshot
 * @throws CorruptionError naming the file that failed a check or does not fit the collection
 */
export async function loadSnapshotState(
  kernel: Kernel,
  io: FileIO,
  dir: string,
  row: CollectionRow,
  snapshotId: string,
): Promise<SnapshotState> {
  const data = await readSnapshot(io, dir, snapshotId, {
    collectionId: row.id,
    dimension: row.dimension,
    metric: row.metric,
  });
  const { manifest, rows } = data;
  const where = joinPath(snapshotsDir(dir), snapshotId);
  if (manifest.hnsw.m !== row.m || manifest.hnsw.ef_construction !== row.efConstruction) {
    throw corrupt(
      `Cannot use snapshot manifest "${where}/manifest.json": HNSW m ${manifest.hnsw.m}, ` +
        `ef_construction ${manifest.hnsw.ef_construction}, expected ${row.m}, ${row.efConstruction}`,
    );
  }
  const dimension = row.dimension;
  const vectorOf = (r: number) => rows.vectors.subarray(r * dimension, (r + 1) * dimension);
  let graph: HnswIndex;
  try {
    graph = HnswIndex.loadGraph(kernel, data.graph, {
      count: manifest.graph_rows,
      id: (r) => rows.ids[r]!,
      vector: vectorOf,
    });
  } catch (error) {
    throw corrupt(`Cannot load snapshot file "${where}/${GRAPH_FILE}": ${errorText(error)}`, error);
  }
  const p = graph.params;
  if (p.dimension !== row.dimension || p.metric !== row.metric || p.m !== row.m) {
    throw corrupt(`Cannot load snapshot file "${where}/${GRAPH_FILE}": parameters differ`);
  }
  const index = new LiveIndex(kernel, indexOptionsOf(row), graph);
  for (let r = manifest.graph_rows; r < rows.ids.length; r++) {
    // Through the tail: searchable at once, linked into the graph in the background.
    index.upsert(rows.ids[r]!, vectorOf(r).slice());
  }
  const metadata = new Map<PointId, StoredMetadata | undefined>();
  rows.ids.forEach((id, r) => {
    const json = rows.metadata[r];
    if (json === undefined) return void metadata.set(id, undefined);
    try {
      metadata.set(id, { json, value: JSON.parse(json) });
    } catch (error) {
      throw corrupt(
        `Cannot read snapshot file "${where}/${VECTORS_FILE}": row ${r} metadata`,
        error,
      );
    }
  });
  if (metadata.size !== rows.ids.length || index.size !== rows.ids.length) {
    index.stop();
    throw corrupt(`Cannot read snapshot file "${where}/${VECTORS_FILE}": duplicate ids`);
  }
  return { manifest, index, metadata, data };
}

/**
 * The newest snapshot that verifies and loads; older ones are tried when a
 * newer one fails, and every failure is reported.
 *
 * @param kernel the compiled kernel
 * @param io the file system
 * @param dir the collection's directory
 * @param row the collection
 * @param onRejected told about each snapshot skipped (log it loudly)
 * @returns the state, or undefined when no snapshot loads
 */
export async function loadLatestSnapshotState(
  kernel: Kernel,
  io: FileIO,
  dir: string,
  row: CollectionRow,
  onRejected: (rejected: RejectedSnapshot) => void,
): Promise<{ state: SnapshotState | undefined; rejected: RejectedSnapshot[] }> {
  const rejected: RejectedSnapshot[] = [];
  for (const snapshotId of await listSnapshotIds(io, dir)) {
    try {
      const state = await loadSnapshotState(kernel, io, dir, row, snapshotId);
      return { state, rejected };
    } catch (error) {
      const entry = { snapshotId, error: errorText(error) };
      rejected.push(entry);
      onRejected(entry);
    }
  }
  return { state: undefined, rejected };
}

function corrupt(message: string, cause?: unknown): CorruptionError {
  return new CorruptionError(message, {
    code: "snapshot_corrupt",
    ...(cause === undefined ? {} : { cause }),
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
