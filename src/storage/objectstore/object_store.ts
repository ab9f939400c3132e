/**
 * The object-store interface: what snapshots and tiering need from S3, with
 * keys that only {@linkcode snapshotObjectKey} can build.
 *
 * @module
 */

import type { ObjectKey, ObjectKeyPrefix } from "./object_key.ts";

/** What `head` tells about an object. */
export interface ObjectHead {
  /** The object's size in bytes. */
  readonly sizeBytes: number;
}

/** One object of a listing. */
export interface ObjectListing {
  /** Its key, relative to the store's prefix. */
  readonly key: ObjectKey;
  /** Its size in bytes. */
  readonly sizeBytes: number;
}

/**
 * A store of immutable objects. Failures are a {@linkcode NotFoundError} (no
 * such object, from `get`/`getToFile`) or an `ObjectStoreError`.
 */
export interface ObjectStore {
  /** Stores bytes under a key, replacing any object there. */
  put(key: ObjectKey, bytes: Uint8Array): Promise<void>;
  /** Stores a local file under a key; large files go up in parts. */
  putFile(key: ObjectKey, path: string): Promise<void>;
  /** Reads an object's bytes; throws NotFoundError when absent. */
  get(key: ObjectKey): Promise<Uint8Array>;
  /**
   * Downloads an object to a local file: written to `<path>.part`, fsync'd, then
   * renamed, so `path` is either absent or complete. Throws NotFoundError when absent.
   */
  getToFile(key: ObjectKey, path: string): Promise<void>;
  /** The object's size, or undefined when absent. */
  head(key: ObjectKey): Promise<ObjectHead | undefined>;
  /** Deletes an object; deleting an absent object succeeds. */
  delete(key: ObjectKey): Promise<void>;
  /** Every valid key under a prefix, sorted by key. */
  list(prefix: ObjectKeyPrefix): Promise<ObjectListing[]>;
}
