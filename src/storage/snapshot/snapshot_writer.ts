/**
 * Writing a snapshot atomically: every file into `snapshots/.tmp-<id>/`, each
 * fsync'd, the manifest last, the temporary directory fsync'd, renamed to
 * `snapshots/<id>/` and the parent fsync'd. A crash at any point leaves either
 * no `<id>` directory or a complete one; `.tmp-*` leftovers are removed by
 * {@linkcode removeTempSnapshots} when a collection opens.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { type FileIO, joinPath } from "../file_io.ts";
import {
  type FileDigest,
  GRAPH_FILE,
  MANIFEST_FILE,
  newSnapshotId,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotManifest,
  TEMP_PREFIX,
  VECTORS_FILE,
} from "./manifest.ts";
import { encodeVectorsParquetParts, type SnapshotRows } from "./vectors_parquet.ts";
import { removeSnapshotDir, snapshotsDir } from "./snapshot_dir.ts";

/** The collection a snapshot belongs to, as the manifest records it. */
export interface SnapshotCollection {
  readonly id: string;
  readonly name: string;
  readonly dimension: number;
  readonly metric: "cosine" | "l2" | "dot";
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
}

/** A point-in-time view of a collection, captured by the engine. */
export interface SnapshotInput {
  readonly collection: SnapshotCollection;
  /** Every record up to this LSN is in the view, none after. */
  readonly lsn: number;
  /** `graph.bin`: what `HnswIndex.exportGraph` wrote. */
  readonly graph: Uint8Array;
  /** How many leading rows are the graph's live points (in `entries()` order). */
  readonly graphRows: number;
  /** Graph rows first, then the points not yet in the graph. */
  readonly rows: SnapshotRows;
  /** Creation time; default now. */
  readonly createdAt?: Date;
}

/**
 * Writes a snapshot under `<collectionDir>/snapshots/<id>/`.
 *
 * @param io the file system
 * @param collectionDir the collection's directory
 * @param input the captured view
 * @returns the manifest written
 * @throws CapacityError when the disk is full (the temporary directory is removed)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryFileIO } from "../memory_file_io.ts";
 * import { readSnapshot, writeSnapshot } from "./mod.ts";
 * const io = new MemoryFileIO({ seed: 1 });
 * const manifest = await writeSnapshot(io, "/c", {
 *   collection: { id: "c1", name: "docs", dimension: 2, metric: "l2", m: 16,
 *     efConstruction: 200, efSearch: 64 },
 *   lsn: 3, graph: new Uint8Array([1]), graphRows: 0,
 *   rows: { ids: ["a", 7], vectors: new Float32Array([1, 2, 3, 4]), metadata: ['{"k":1}', undefined] },
 * });
 * const back = await readSnapshot(io, "/c", manifest.snapshot_id);
 * assert.deepEqual(back.rows.ids, ["a", 7]);
 * ```
 */
export async function writeSnapshot(
  io: FileIO,
  collectionDir: string,
  input: SnapshotInput,
): Promise<SnapshotManifest> {
  const vectors = encodeVectorsParquetParts(input.rows, input.collection.dimension);
  return await writeSnapshotFiles(io, collectionDir, input, vectors, input.rows.ids.length);
}

/**
 * Writes a snapshot whose `vectors.parquet` is already encoded — a restored
 * snapshot saved again at a later LSN, without decoding and re-encoding it.
 *
 * @param io the file system
 * @param collectionDir the collection's directory
 * @param input collection, LSN, graph and graph row count (`rows` is ignored)
 * @param vectorsParquet the Parquet file's bytes, whole or as consecutive parts (an iterable
 *   is consumed once, while writing)
 * @param vectorCount its row count
 * @returns the manifest written
 */
export async function writeSnapshotFiles(
  io: FileIO,
  collectionDir: string,
  input: Omit<SnapshotInput, "rows">,
  vectorsParquet: Uint8Array | Iterable<Uint8Array>,
  vectorCount: number,
): Promise<SnapshotManifest> {
  const parent = snapshotsDir(collectionDir);
  await io.mkdir(parent);
  await io.syncDir(collectionDir);
  const existing = (await io.readDir(parent)).map((name) => name.replace(TEMP_PREFIX, ""));
  const id = newSnapshotId(input.lsn, existing);
  const temp = joinPath(parent, TEMP_PREFIX + id);
  await io.mkdir(temp);
  try {
    // Each file is hashed once, from the bytes being written, while they are written.
    const vectors = await writeDurably(io, joinPath(temp, VECTORS_FILE), vectorsParquet);
    const graph = await writeDurably(io, joinPath(temp, GRAPH_FILE), input.graph);
    const manifest = buildManifest(id, input, vectorCount, { vectors, graph });
    const text = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
    await writeDurably(io, joinPath(temp, MANIFEST_FILE), text);
    await io.syncDir(temp);
    await io.rename(temp, joinPath(parent, id));
    await io.syncDir(parent);
    return manifest;
  } catch (error) {
    await removeSnapshotDir(io, temp).catch(() => undefined);
    throw error;
  }
}

function buildManifest(
  id: string,
  input: Omit<SnapshotInput, "rows">,
  vectorCount: number,
  digests: { vectors: FileDigest; graph: FileDigest },
): SnapshotManifest {
  const { collection } = input;
  return {
    format_version: SNAPSHOT_FORMAT_VERSION,
    snapshot_id: id,
    collection_id: collection.id,
    collection_name: collection.name,
    lsn: input.lsn,
    created_at: (input.createdAt ?? new Date()).toISOString(),
    vector_count: vectorCount,
    graph_rows: input.graphRows,
    dimension: collection.dimension,
    metric: collection.metric,
    hnsw: {
      m: collection.m,
      ef_construction: collection.efConstruction,
      ef_search: collection.efSearch,
    },
    files: { [VECTORS_FILE]: digests.vectors, [GRAPH_FILE]: digests.graph },
  };
}

/**
 * Creates a new file with `bytes`, fsync'd and closed. Each part is hashed
 * while it is being written (a disk write runs off the main thread), and the
 * next part is produced (a lazy encoder's work) while the previous one is.
 *
 * @returns the file's size and SHA-256
 */
async function writeDurably(
  io: FileIO,
  path: string,
  bytes: Uint8Array | Iterable<Uint8Array>,
): Promise<FileDigest> {
  const hash = createHash("sha256");
  let size = 0;
  const handle = await io.open(path, { mode: "createNew" });
  let pending: Promise<void> = Promise.resolve();
  try {
    for (const part of bytes instanceof Uint8Array ? [bytes] : bytes) {
      await pending;
      pending = handle.write(part);
      pending.catch(() => undefined); // awaited: by the next turn or after the loop
      hash.update(part);
      size += part.byteLength;
    }
    await pending;
    await handle.syncData();
  } finally {
    await handle.close();
  }
  return { size_bytes: size, sha256: hash.digest("hex") };
}
