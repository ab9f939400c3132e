/**
 * `manifest.json` of a snapshot: what it holds (collection, LSN, counts,
 * dimension, metric, HNSW parameters) and the size and SHA-256 of each data
 * file, plus snapshot ids and their ordering. Layout and protocol:
 * `docs/formats/snapshot.md`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { CorruptionError } from "../../errors.ts";

/** Version of the snapshot format this code writes and reads. */
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Name of the Parquet file of a snapshot. */
export const VECTORS_FILE = "vectors.parquet";
/** Name of the graph file of a snapshot. */
export const GRAPH_FILE = "graph.bin";
/** Name of the manifest file of a snapshot (written last). */
export const MANIFEST_FILE = "manifest.json";
/** Prefix of a snapshot directory still being written. */
export const TEMP_PREFIX = ".tmp-";

/** `<lsn, 20 digits>-<8 hex>`: sorts by LSN, then by creation (see {@linkcode newSnapshotId}). */
const SNAPSHOT_ID_PATTERN = /^[0-9]{20}-[0-9a-f]{8}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Size and checksum of one data file. */
export interface FileDigest {
  readonly size_bytes: number;
  /** Lowercase hex SHA-256 of the whole file. */
  readonly sha256: string;
}

/** HNSW parameters as the manifest (and the API) spell them. */
export interface ManifestHnsw {
  readonly m: number;
  readonly ef_construction: number;
  readonly ef_search: number;
}

/** The content of `manifest.json` (snake_case: the API returns it as is). */
export interface SnapshotManifest {
  readonly format_version: number;
  readonly snapshot_id: string;
  readonly collection_id: string;
  readonly collection_name: string;
  /** Every WAL record with an LSN ≤ this is in the snapshot, none after. */
  readonly lsn: number;
  /** ISO 8601. */
  readonly created_at: string;
  /** Rows of `vectors.parquet` = live points. */
  readonly vector_count: number;
  /** The first `graph_rows` rows are the graph's live points; the rest were not yet indexed. */
  readonly graph_rows: number;
  readonly dimension: number;
  readonly metric: "cosine" | "l2" | "dot";
  readonly hnsw: ManifestHnsw;
  readonly files: {
    readonly "vectors.parquet": FileDigest;
    readonly "graph.bin": FileDigest;
  };
}

/**
 * A new snapshot id for a snapshot at `lsn`. The suffix is the creation time in
 * seconds (hex), raised above every existing id at the same LSN, so ids sort by
 * LSN and then by creation even when two snapshots share an LSN (a restore).
 *
 * @param lsn the snapshot's LSN
 * @param existing ids (or directory names) already present
 * @returns `<lsn as 20 digits>-<8 hex digits>`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSnapshotId, newSnapshotId } from "./manifest.ts";
 * const id = newSnapshotId(42);
 * assert.ok(id.startsWith("00000000000000000042-"));
 * assert.ok(isSnapshotId(id));
 * assert.ok(newSnapshotId(42, [id]) > id);
 * ```
 */
export function newSnapshotId(lsn: number, existing: readonly string[] = []): string {
  if (!Number.isSafeInteger(lsn) || lsn < 0) {
    throw new RangeError(`Cannot name snapshot: LSN is ${lsn}, expected a safe integer ≥ 0`);
  }
  const prefix = `${String(lsn).padStart(20, "0")}-`;
  let suffix = Math.floor(Date.now() / 1000) % 0x1_0000_0000;
  for (const id of existing) {
    if (id.startsWith(prefix) && isSnapshotId(id)) {
      suffix = Math.max(suffix, Number.parseInt(id.slice(21), 16) + 1);
    }
  }
  if (suffix > 0xffff_ffff) throw new RangeError(`Cannot name snapshot: too many at LSN ${lsn}`);
  return prefix + suffix.toString(16).padStart(8, "0");
}

/**
 * Whether a string is a well-formed snapshot id (also a safe directory name).
 *
 * @param id the candidate
 * @returns true when it matches `<20 digits>-<8 hex>`
 */
export function isSnapshotId(id: string): boolean {
  return SNAPSHOT_ID_PATTERN.test(id);
}

/**
 * Lowercase hex SHA-256 of some bytes (`node:crypto`, on this thread: about
 * 4× faster here than `crypto.subtle`, which copies the input first).
 *
 * @param bytes the data, whole or in consecutive parts
 * @returns 64 hex digits
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Hex } from "./manifest.ts";
 * const abc = new TextEncoder().encode("abc");
 * assert.equal(sha256Hex(abc).slice(0, 8), "ba7816bf");
 * assert.equal(sha256Hex([abc.subarray(0, 1), abc.subarray(1)]), sha256Hex(abc));
 * ```
 */
export function sha256Hex(bytes: Uint8Array | readonly Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const part of bytes instanceof Uint8Array ? [bytes] : bytes) hash.update(part);
  return hash.digest("hex");
}

/**
 * Parses and checks `manifest.json`.
 *
 * @param text the file's content
 * @param where the file's path, for messages
 * @returns the manifest
 * @throws CorruptionError when it is not JSON, of another format version, or a field is missing
 *   or out of range
 */
export function parseManifest(text: string, where: string): SnapshotManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CorruptionError(`Cannot read snapshot manifest "${where}": not JSON`, {
      cause: error,
      code: "snapshot_corrupt",
    });
  }
  const fail = (reason: string): never => {
    throw new CorruptionError(`Cannot read snapshot manifest "${where}": ${reason}`, {
      code: "snapshot_corrupt",
    });
  };
  if (typeof value !== "object" || value === null) return fail("not an object");
  const m = value as Record<string, unknown>;
  if (m.format_version !== SNAPSHOT_FORMAT_VERSION) {
    fail(`format_version is ${JSON.stringify(m.format_version)}, expected 1`);
  }
  for (const key of ["snapshot_id", "collection_id", "collection_name", "created_at"]) {
    if (typeof m[key] !== "string") fail(`${key} is missing or not a string`);
  }
  if (!isSnapshotId(m.snapshot_id as string)) fail("snapshot_id is malformed");
  for (const key of ["lsn", "vector_count", "graph_rows", "dimension"]) {
    const n = m[key];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      fail(`${key} is ${JSON.stringify(n)}, expected an integer ≥ 0`);
    }
  }
  if ((m.graph_rows as number) > (m.vector_count as number)) fail("graph_rows > vector_count");
  if (!["cosine", "l2", "dot"].includes(m.metric as string)) fail("metric is unknown");
  const hnsw = m.hnsw as Record<string, unknown> | undefined;
  for (const key of ["m", "ef_construction", "ef_search"]) {
    if (typeof hnsw?.[key] !== "number") fail(`hnsw.${key} is missing`);
  }
  const files = m.files as Record<string, Record<string, unknown> | undefined> | undefined;
  for (const name of [VECTORS_FILE, GRAPH_FILE]) {
    const digest = files?.[name];
    if (
      typeof digest?.size_bytes !== "number" || typeof digest.sha256 !== "string" ||
      !SHA256_PATTERN.test(digest.sha256)
    ) {
      fail(`files["${name}"] needs size_bytes and a hex sha256`);
    }
  }
  return m as unknown as SnapshotManifest;
}
