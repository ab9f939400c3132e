/**
 * The only way to build an object-store key. Every segment is validated, so a
 * key can never escape its collection's folder (no `..`, no `/` inside a
 * segment, no empty segment): collection ids are UUIDs, snapshot ids are short
 * identifiers, file names come from a fixed set.
 *
 * Keys are relative to the store's configured prefix; the store prepends it:
 * `<prefix>/collections/<collection_id>/snapshots/<snapshot_id>/<file>`.
 *
 * @module
 */

/** The files of a snapshot, the only file names a key may end with. */
export const SNAPSHOT_FILE_NAMES = ["manifest.json", "vectors.parquet", "graph.bin"] as const;

/** A snapshot file name. */
export type SnapshotFileName = typeof SNAPSHOT_FILE_NAMES[number];

declare const objectKeyBrand: unique symbol;
declare const objectKeyPrefixBrand: unique symbol;

/** A validated key, relative to the store's prefix. Only this module makes them. */
export type ObjectKey = string & { readonly [objectKeyBrand]: true };

/** A validated key prefix ending in `/`, relative to the store's prefix. */
export type ObjectKeyPrefix = string & { readonly [objectKeyPrefixBrand]: true };

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SNAPSHOT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const FILE_NAMES: ReadonlySet<string> = new Set(SNAPSHOT_FILE_NAMES);

function checkCollectionId(collectionId: string): void {
  if (!UUID_PATTERN.test(collectionId)) {
    throw new TypeError(
      `Cannot build object key for collection ${JSON.stringify(collectionId)}: ` +
        "expected a lowercase UUID",
    );
  }
}

function checkSnapshotId(snapshotId: string): void {
  if (!SNAPSHOT_ID_PATTERN.test(snapshotId)) {
    throw new TypeError(
      `Cannot build object key for snapshot ${JSON.stringify(snapshotId)}: ` +
        "expected 1..64 letters, digits, _ or - starting with a letter or digit",
    );
  }
}

function checkFileName(fileName: string): asserts fileName is SnapshotFileName {
  if (!FILE_NAMES.has(fileName)) {
    throw new TypeError(
      `Cannot build object key for file ${JSON.stringify(fileName)}: ` +
        `expected one of ${SNAPSHOT_FILE_NAMES.join(", ")}`,
    );
  }
}

/**
 * Builds the key of one snapshot file.
 *
 * @param collectionId The collection's id, a lowercase UUID.
 * @param snapshotId The snapshot's id: 1..64 of `[A-Za-z0-9_-]`, not starting with `_` or `-`.
 * @param fileName One of {@linkcode SNAPSHOT_FILE_NAMES}.
 * @returns `collections/<collection_id>/snapshots/<snapshot_id>/<file>`.
 * @throws TypeError when a segment is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snapshotObjectKey } from "./object_key.ts";
 * const key = snapshotObjectKey("0192f0a8-6a8e-7c1f-9c1e-0a1b2c3d4e5f", "s1", "graph.bin");
 * assert.equal(key, "collections/0192f0a8-6a8e-7c1f-9c1e-0a1b2c3d4e5f/snapshots/s1/graph.bin");
 * assert.throws(() => snapshotObjectKey("../x", "s1", "graph.bin"), TypeError);
 * ```
 */
export function snapshotObjectKey(
  collectionId: string,
  snapshotId: string,
  fileName: string,
): ObjectKey {
  checkCollectionId(collectionId);
  checkSnapshotId(snapshotId);
  checkFileName(fileName);
  return `collections/${collectionId}/snapshots/${snapshotId}/${fileName}` as ObjectKey;
}

/**
 * Builds a key prefix for listing: every collection, one collection's
 * snapshots, or one snapshot's files.
 *
 * @param collectionId Omit for all collections.
 * @param snapshotId Omit for all snapshots of the collection.
 * @returns `collections/`, `collections/<id>/snapshots/` or `collections/<id>/snapshots/<sid>/`.
 * @throws TypeError when a segment is invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { objectKeyPrefix } from "./object_key.ts";
 * assert.equal(objectKeyPrefix(), "collections/");
 * ```
 */
export function objectKeyPrefix(collectionId?: string, snapshotId?: string): ObjectKeyPrefix {
  if (collectionId === undefined) return "collections/" as ObjectKeyPrefix;
  checkCollectionId(collectionId);
  if (snapshotId === undefined) return `collections/${collectionId}/snapshots/` as ObjectKeyPrefix;
  checkSnapshotId(snapshotId);
  return `collections/${collectionId}/snapshots/${snapshotId}/` as ObjectKeyPrefix;
}

/** The parts of a snapshot file key. */
export interface ObjectKeyParts {
  /** The collection's UUID. */
  readonly collectionId: string;
  /** The snapshot's id. */
  readonly snapshotId: string;
  /** The file name. */
  readonly fileName: SnapshotFileName;
}

/**
 * Parses and re-validates a key read from outside (a listing, the DLQ table).
 *
 * @param text The key, relative to the store's prefix.
 * @returns The parts, or undefined when the text is not a valid key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseObjectKey } from "./object_key.ts";
 * assert.equal(parseObjectKey("collections/../snapshots/x/graph.bin"), undefined);
 * ```
 */
export function parseObjectKey(text: string): ObjectKeyParts | undefined {
  const parts = text.split("/");
  if (parts.length !== 5 || parts[0] !== "collections" || parts[2] !== "snapshots") {
    return undefined;
  }
  const [, collectionId = "", , snapshotId = "", fileName = ""] = parts;
  if (!UUID_PATTERN.test(collectionId) || !SNAPSHOT_ID_PATTERN.test(snapshotId)) return undefined;
  if (!FILE_NAMES.has(fileName)) return undefined;
  return { collectionId, snapshotId, fileName: fileName as SnapshotFileName };
}

/**
 * Turns text into a key after validating it, for keys read back from storage.
 *
 * @param text The key, relative to the store's prefix.
 * @returns The key.
 * @throws TypeError when the text is not a valid key.
 */
export function toObjectKey(text: string): ObjectKey {
  const parts = parseObjectKey(text);
  if (parts === undefined) {
    throw new TypeError(`Cannot use object key ${JSON.stringify(text)}: not a snapshot file key`);
  }
  return snapshotObjectKey(parts.collectionId, parts.snapshotId, parts.fileName);
}
