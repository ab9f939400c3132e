/**
 * Reading a snapshot: the manifest is parsed and checked against what the
 * caller expects (collection, dimension, metric), every data file's size and
 * SHA-256 is checked before a byte of it is parsed, and the Parquet rows are
 * counted against the manifest. Any failure is a `CorruptionError` naming the
 * file; nothing partial is returned.
 *
 * @module
 */

import { CorruptionError, NotFoundError } from "../../errors.ts";
import { type FileIO, joinPath } from "../file_io.ts";
import {
  GRAPH_FILE,
  isSnapshotId,
  MANIFEST_FILE,
  parseManifest,
  sha256Hex,
  type SnapshotManifest,
  VECTORS_FILE,
} from "./manifest.ts";
import { decodeVectorsParquet, type SnapshotRows } from "./vectors_parquet.ts";
import { snapshotsDir } from "./snapshot_dir.ts";

/** What the caller knows the snapshot must match. */
export interface SnapshotExpectation {
  readonly collectionId?: string;
  readonly dimension?: number;
  readonly metric?: "cosine" | "l2" | "dot";
}

/** A verified, decoded snapshot. */
export interface SnapshotData {
  readonly manifest: SnapshotManifest;
  /** `graph.bin`, checksum verified (its structure is checked by `HnswIndex.loadGraph`). */
  readonly graph: Uint8Array;
  /** All rows; the first `manifest.graph_rows` belong to the graph. */
  readonly rows: SnapshotRows;
  /** `vectors.parquet` as read (checksum verified), so a restore can re-save it without re-encoding. */
  readonly vectorsParquet: Uint8Array;
}

function corrupt(message: string): CorruptionError {
  return new CorruptionError(message, { code: "snapshot_corrupt" });
}

/**
 * Reads and checks a snapshot's manifest (not its data files).
 *
 * @param io the file system
 * @param collectionDir the collection's directory
 * @param snapshotId the snapshot's id
 * @param expect what it must match
 * @returns the manifest
 * @throws NotFoundError when the id is malformed or there is no such snapshot
 * @throws CorruptionError when the manifest is unreadable or does not match
 */
export async function readManifest(
  io: FileIO,
  collectionDir: string,
  snapshotId: string,
  expect: SnapshotExpectation = {},
): Promise<SnapshotManifest> {
  const dir = snapshotPath(collectionDir, snapshotId);
  const path = joinPath(dir, MANIFEST_FILE);
  if ((await io.stat(dir)) === undefined) {
    throw new NotFoundError(`Cannot find snapshot "${snapshotId}": no such snapshot`, {
      code: "snapshot_not_found",
    });
  }
  if ((await io.stat(path)) === undefined) {
    throw corrupt(`Cannot read snapshot "${snapshotId}": "${path}" is missing`);
  }
  const manifest = parseManifest(new TextDecoder().decode(await io.readFile(path)), path);
  const mismatch = (what: string, found: unknown, wanted: unknown): never => {
    throw corrupt(
      `Cannot use snapshot manifest "${path}": ${what} is ${JSON.stringify(found)}, ` +
        `expected ${JSON.stringify(wanted)}`,
    );
  };
  if (manifest.snapshot_id !== snapshotId) {
    mismatch("snapshot_id", manifest.snapshot_id, snapshotId);
  }
  if (!manifest.snapshot_id.startsWith(String(manifest.lsn).padStart(20, "0"))) {
    mismatch("lsn", manifest.lsn, Number(snapshotId.slice(0, 20)));
  }
  if (expect.collectionId !== undefined && manifest.collection_id !== expect.collectionId) {
    mismatch("collection_id", manifest.collection_id, expect.collectionId);
  }
  if (expect.dimension !== undefined && manifest.dimension !== expect.dimension) {
    mismatch("dimension", manifest.dimension, expect.dimension);
  }
  if (expect.metric !== undefined && manifest.metric !== expect.metric) {
    mismatch("metric", manifest.metric, expect.metric);
  }
  return manifest;
}

/**
 * Reads one data file and checks its size and SHA-256 against the manifest.
 *
 * @returns the file's bytes
 * @throws CorruptionError when it is missing, of the wrong size or checksum
 */
async function readVerified(
  io: FileIO,
  dir: string,
  manifest: SnapshotManifest,
  name: typeof VECTORS_FILE | typeof GRAPH_FILE,
): Promise<Uint8Array> {
  const path = joinPath(dir, name);
  const expected = manifest.files[name];
  const info = await io.stat(path);
  if (info === undefined) throw corrupt(`Cannot verify snapshot file "${path}": it is missing`);
  if (info.sizeBytes !== expected.size_bytes) {
    throw corrupt(
      `Cannot verify snapshot file "${path}": size is ${info.sizeBytes} bytes, ` +
        `manifest says ${expected.size_bytes}`,
    );
  }
  const bytes = await io.readFile(path);
  const sha256 = sha256Hex(bytes);
  if (bytes.byteLength !== expected.size_bytes || sha256 !== expected.sha256) {
    throw corrupt(
      `Cannot verify snapshot file "${path}": SHA-256 is ${sha256}, manifest says ${expected.sha256}`,
    );
  }
  return bytes;
}

/** Reads the manifest and both data files, each checked against the manifest. */
async function readVerifiedFiles(
  io: FileIO,
  collectionDir: string,
  snapshotId: string,
  expect: SnapshotExpectation,
): Promise<{ manifest: SnapshotManifest; vectorsParquet: Uint8Array; graph: Uint8Array }> {
  const manifest = await readManifest(io, collectionDir, snapshotId, expect);
  const dir = snapshotPath(collectionDir, snapshotId);
  // Both files are read and hashed at once (each read once; the bytes verified here are
  // the bytes parsed later); a failure of vectors.parquet is still reported first.
  const vectors = readVerified(io, dir, manifest, VECTORS_FILE);
  const graphRead = readVerified(io, dir, manifest, GRAPH_FILE);
  graphRead.catch(() => undefined); // awaited below; not unhandled if vectors fails first
  const vectorsParquet = await vectors;
  const graph = await graphRead;
  return { manifest, vectorsParquet, graph };
}

/**
 * Verifies a snapshot without decoding it: manifest, sizes and checksums.
 *
 * @param io the file system
 * @param collectionDir the collection's directory
 * @param snapshotId the snapshot's id
 * @param expect what it must match
 * @returns the manifest
 * @throws NotFoundError when there is no such snapshot
 * @throws CorruptionError naming the file that failed
 */
export async function verifySnapshot(
  io: FileIO,
  collectionDir: string,
  snapshotId: string,
  expect: SnapshotExpectation = {},
): Promise<SnapshotManifest> {
  return (await readVerifiedFiles(io, collectionDir, snapshotId, expect)).manifest;
}

/**
 * Reads a whole snapshot: verifies it, then decodes its rows.
 *
 * @param io the file system
 * @param collectionDir the collection's directory
 * @param snapshotId the snapshot's id
 * @param expect what it must match
 * @returns manifest, graph bytes and rows
 * @throws NotFoundError when there is no such snapshot
 * @throws CorruptionError naming the file that failed a check
 */
export async function readSnapshot(
  io: FileIO,
  collectionDir: string,
  snapshotId: string,
  expect: SnapshotExpectation = {},
): Promise<SnapshotData> {
  const files = await readVerifiedFiles(io, collectionDir, snapshotId, expect);
  const { manifest } = files;
  const vectorsPath = joinPath(snapshotPath(collectionDir, snapshotId), VECTORS_FILE);
  const rows = decodeVectorsParquet(files.vectorsParquet, manifest.dimension, vectorsPath);
  if (rows.ids.length !== manifest.vector_count) {
    throw corrupt(
      `Cannot read snapshot file "${vectorsPath}": it has ${rows.ids.length} rows, ` +
        `manifest says ${manifest.vector_count}`,
    );
  }
  return { ...files, rows };
}

/**
 * The directory of one snapshot.
 *
 * @param collectionDir the collection's directory
 * @param snapshotId a well-formed snapshot id
 * @returns `<collectionDir>/snapshots/<snapshotId>`
 * @throws NotFoundError when the id is malformed (it can name no snapshot)
 */
export function snapshotPath(collectionDir: string, snapshotId: string): string {
  if (!isSnapshotId(snapshotId)) {
    throw new NotFoundError(
      `Cannot find snapshot ${JSON.stringify(snapshotId)}: ids look like <20 digits>-<8 hex>`,
      { code: "snapshot_not_found" },
    );
  }
  return joinPath(snapshotsDir(collectionDir), snapshotId);
}
