/**
 * Snapshots in the object store: every snapshot durable on local disk is
 * uploaded in the background (data files first, `manifest.json` last, so a
 * remote snapshot with a manifest is complete), remote snapshots that local
 * retention removed are deleted, the dead-letter queue is replayed on demand,
 * and the cold tier can verify an upload and download a snapshot back.
 *
 * Uploads of one collection run one after another (a per-collection chain),
 * so pruning never races an upload of the same collection. Nothing here ever
 * fails or waits a write: the engine does not await {@linkcode SnapshotUploads.snapshotDurable}.
 *
 * @module
 */

import type { Logger } from "../obs/logger.ts";
import { type FileIO, joinPath } from "../storage/file_io.ts";
import {
  type BreakerState,
  DeadLetterQueue,
  type ObjectHead,
  type ObjectKey,
  type ObjectKeyPrefix,
  objectKeyPrefix,
  type ObjectListing,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreObserver,
  parseObjectKey,
  ResilientObjectStore,
  S3ObjectStore,
  SNAPSHOT_FILE_NAMES,
  snapshotObjectKey,
  UploadQueue,
} from "../storage/objectstore/mod.ts";
import type { S3Config } from "../config/mod.ts";
import type { DatabaseSync } from "node:sqlite";
import { snapshotsDir } from "../storage/snapshot/mod.ts";
import { TEMP_PREFIX } from "../storage/snapshot/manifest.ts";
import { ConflictError } from "../errors.ts";
import type { DlqStatus, RetryAllReport } from "./engine_types.ts";

/** Data files go first, the manifest last. */
const DATA_FILES = ["vectors.parquet", "graph.bin"] as const;
const MANIFEST = "manifest.json";

export type { DlqStatus, RetryAllReport };

/** What {@linkcode SnapshotUploads} is built from. */
export interface SnapshotUploadsParts {
  readonly store: ResilientObjectStore;
  readonly dlq: DeadLetterQueue;
  readonly queue: UploadQueue;
  readonly io: FileIO;
  readonly logger: Logger;
}

/**
 * Builds the object-store stack of the `[s3]` configuration: S3 client,
 * retries behind a circuit breaker, the persistent DLQ on the catalog's
 * database, and the background upload queue.
 *
 * @param s3 the S3 settings
 * @param db the catalog's database (the DLQ's table lives there)
 * @param io the file system of the data directory
 * @param logger where uploads log
 * @param observer metrics hooks
 * @returns the uploads service
 */
export function createSnapshotUploads(
  s3: S3Config,
  db: DatabaseSync,
  io: FileIO,
  logger: Logger,
  observer?: ObjectStoreObserver,
): SnapshotUploads {
  const log = logger.child({ component: "objectstore" });
  const store = new ResilientObjectStore(new S3ObjectStore(s3), {
    logger: log,
    ...(observer === undefined ? {} : { observer }),
  });
  const dlq = new DeadLetterQueue(db, observer === undefined ? {} : { observer });
  const queue = new UploadQueue(store, dlq, { logger: log });
  return new SnapshotUploads({ store, dlq, queue, io, logger: log });
}

/** Snapshot uploads, remote pruning, DLQ replay, verification and download. */
export class SnapshotUploads {
  readonly #parts: SnapshotUploadsParts;
  /** Per collection id: the tail of its chain of upload/prune work. */
  readonly #chains = new Map<string, Promise<void>>();

  /** @param parts the store, DLQ, queue, file system and logger */
  constructor(parts: SnapshotUploadsParts) {
    this.#parts = parts;
  }

  /** The store (retries + breaker), for benchmarks and tests. */
  get store(): ResilientObjectStore {
    return this.#parts.store;
  }

  /**
   * Schedules the upload of a snapshot that is durable locally, then deletes
   * remote snapshots of the collection that are no longer on local disk.
   * Never rejects; failures end in the DLQ.
   *
   * @param collectionId the collection
   * @param dir the collection's directory
   * @param snapshotId the snapshot
   * @returns settles when the upload (or its dead-lettering) is done
   */
  snapshotDurable(collectionId: string, dir: string, snapshotId: string): Promise<void> {
    return this.#chain(collectionId, async () => {
      await this.#upload(collectionId, dir, snapshotId);
      await this.#pruneRemote(collectionId, dir).catch((error) =>
        this.#parts.logger.warn("cannot prune remote snapshots", {
          collectionId,
          error: errorText(error),
        })
      );
    });
  }

  /**
   * Waits for the collection's scheduled uploads to settle.
   *
   * @param collectionId the collection
   */
  async settled(collectionId: string): Promise<void> {
    await this.#chains.get(collectionId);
  }

  /** Waits until every scheduled upload settled. */
  async drain(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
    await this.#parts.queue.drain();
  }

  /**
   * Makes sure a local snapshot is in the store, byte-size for byte-size:
   * waits for scheduled uploads, heads each object, uploads what is missing
   * or differs (data first, manifest last) and heads again.
   *
   * @param collectionId the collection
   * @param dir the collection's directory
   * @param snapshotId the snapshot
   * @throws ObjectStoreError when the store cannot be reached or a size still differs
   */
  async ensureUploaded(collectionId: string, dir: string, snapshotId: string): Promise<void> {
    await this.settled(collectionId);
    const { store, io } = this.#parts;
    const local = joinPath(snapshotsDir(dir), snapshotId);
    for (const round of [1, 2]) {
      let complete = true;
      for (const fileName of [...DATA_FILES, MANIFEST]) {
        const key = snapshotObjectKey(collectionId, snapshotId, fileName);
        const path = joinPath(local, fileName);
        const sizeBytes = (await io.stat(path))?.sizeBytes;
        if (sizeBytes === undefined) {
          throw new ConflictError(`Cannot verify upload of "${path}": the local file is missing`);
        }
        const head: ObjectHead | undefined = await store.head(key);
        if (head?.sizeBytes === sizeBytes) continue;
        complete = false;
        if (round === 2) {
          throw new ObjectStoreError(
            `Cannot verify upload of "${key}": remote size ${head?.sizeBytes}, local ${sizeBytes}`,
            { kind: "server" },
          );
        }
        if (fileName === MANIFEST) {
          // Re-check the data files are there before the manifest makes the snapshot complete.
          continue;
        }
        await store.putFile(key, path);
      }
      if (complete) return;
      const manifestKey = snapshotObjectKey(collectionId, snapshotId, MANIFEST);
      await store.putFile(manifestKey, joinPath(local, MANIFEST));
      for (const fileName of SNAPSHOT_FILE_NAMES) {
        this.#parts.dlq.removeKey(snapshotObjectKey(collectionId, snapshotId, fileName));
      }
    }
  }

  /**
   * Downloads a snapshot into the collection's `snapshots/` directory: into a
   * temporary directory first, renamed once all three files are there.
   *
   * @param collectionId the collection
   * @param dir the collection's directory
   * @param snapshotId the snapshot
   * @throws NotFoundError when an object is missing; ObjectStoreError when S3 fails
   */
  async download(collectionId: string, dir: string, snapshotId: string): Promise<void> {
    const { store, io } = this.#parts;
    const parent = snapshotsDir(dir);
    const final = joinPath(parent, snapshotId);
    if ((await io.stat(joinPath(final, MANIFEST))) !== undefined) return;
    await io.mkdir(parent);
    const temp = joinPath(parent, `${TEMP_PREFIX}download-${snapshotId}`);
    await removeFlatDir(io, temp);
    await io.mkdir(temp);
    await Promise.all(
      SNAPSHOT_FILE_NAMES.map((fileName) =>
        store.getToFile(
          snapshotObjectKey(collectionId, snapshotId, fileName),
          joinPath(temp, fileName),
        )
      ),
    );
    await io.syncDir(temp);
    await removeFlatDir(io, final);
    await io.rename(temp, final);
    await io.syncDir(parent);
  }

  /**
   * Deletes every remote object of a collection (it was dropped) and its DLQ entries.
   * Failures are logged; a later reconcile cannot see a dropped collection, so
   * the objects stay until removed by hand.
   *
   * @param collectionId the collection
   */
  deleteCollection(collectionId: string): Promise<void> {
    return this.#chain(collectionId, async () => {
      for (const entry of this.#parts.dlq.list()) {
        if (parseObjectKey(entry.key)?.collectionId === collectionId) {
          this.#parts.dlq.removeKey(entry.key);
        }
      }
      try {
        await this.#deleteSnapshots(await this.#list(objectKeyPrefix(collectionId)), new Set());
      } catch (error) {
        this.#parts.logger.warn("cannot delete a dropped collection's remote snapshots", {
          collectionId,
          error: errorText(error),
        });
      }
    }).finally(() => this.#chains.delete(collectionId));
  }

  /**
   * The DLQ's entries and size, and the breaker state.
   *
   * @returns the status
   */
  status(): DlqStatus {
    const { dlq, store } = this.#parts;
    return { size: dlq.size, entries: dlq.list(1000), breakerState: store.breaker.state };
  }

  /**
   * Closes the breaker by hand.
   *
   * @returns its state afterwards (0)
   */
  resetBreaker(): BreakerState {
    this.#parts.store.breaker.reset();
    return this.#parts.store.breaker.state;
  }

  /**
   * Replays the DLQ: entries of snapshots no longer on local disk are dropped
   * (a newer snapshot superseded them), the rest go through the store, a
   * manifest only after its snapshot's data files in the same pass succeeded.
   *
   * @param localSnapshots collection id → directory, for every collection that is not cold
   * @returns succeeded, failed, remaining, discarded and the breaker state
   */
  async retryAll(localSnapshots: ReadonlyMap<string, string>): Promise<RetryAllReport> {
    const { dlq, store, io } = this.#parts;
    let discarded = 0;
    for (const entry of dlq.list()) {
      if (entry.operation !== "put_file" || entry.localPath === undefined) continue;
      if ((await io.stat(entry.localPath)) !== undefined) continue;
      dlq.removeKey(entry.key);
      discarded++;
    }
    const report = await dlq.retryAll(new ManifestLastStore(store));
    for (const [collectionId, dir] of localSnapshots) {
      await this.#chain(collectionId, () => this.#pruneRemote(collectionId, dir)).catch(() =>
        undefined
      );
    }
    return { ...report, discarded, breakerState: store.breaker.state };
  }

  /** Waits for accepted uploads, then stops accepting. */
  async close(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
    await this.#parts.queue.close();
  }

  async #upload(collectionId: string, dir: string, snapshotId: string): Promise<void> {
    const { queue, dlq, logger } = this.#parts;
    const local = joinPath(snapshotsDir(dir), snapshotId);
    const keyOf = (fileName: string) => snapshotObjectKey(collectionId, snapshotId, fileName);
    const outcomes = await queue.enqueueBatch(
      DATA_FILES.map((fileName) => ({
        operation: "put_file" as const,
        key: keyOf(fileName),
        path: joinPath(local, fileName),
      })),
    );
    const manifest = { key: keyOf(MANIFEST), path: joinPath(local, MANIFEST) };
    if (outcomes.every((outcome) => outcome.status === "uploaded")) {
      const outcome = await queue.enqueue({ operation: "put_file", ...manifest });
      if (outcome.status === "uploaded") {
        logger.debug("snapshot uploaded", { collectionId, snapshotId });
      }
      return;
    }
    // The data did not make it: the manifest waits in the DLQ, after them.
    const sizeBytes = (await this.#parts.io.stat(manifest.path))?.sizeBytes ?? 0;
    dlq.record({
      operation: "put_file",
      key: manifest.key,
      localPath: manifest.path,
      sizeBytes,
      attempts: 0,
      error: new Error("held back: the snapshot's data files are not uploaded"),
    });
  }

  /** Deletes remote snapshots of a collection that are not on local disk. */
  async #pruneRemote(collectionId: string, dir: string): Promise<void> {
    const localIds = new Set(await this.#localSnapshotIds(dir));
    if (localIds.size === 0) return; // never empty the remote side of a collection with no local copy
    const listing = await this.#list(objectKeyPrefix(collectionId));
    await this.#deleteSnapshots(listing, localIds);
  }

  async #deleteSnapshots(listing: ObjectListing[], keep: ReadonlySet<string>): Promise<void> {
    const doomed = listing.filter((item) => {
      const parts = parseObjectKey(item.key);
      return parts !== undefined && !keep.has(parts.snapshotId);
    });
    // Manifests first: a half-deleted snapshot never looks complete.
    doomed.sort((a, b) => Number(b.key.endsWith(MANIFEST)) - Number(a.key.endsWith(MANIFEST)));
    for (const item of doomed) {
      await this.#parts.store.delete(item.key);
      this.#parts.dlq.removeKey(item.key);
    }
  }

  async #localSnapshotIds(dir: string): Promise<string[]> {
    const { io } = this.#parts;
    const parent = snapshotsDir(dir);
    if ((await io.stat(parent)) === undefined) return [];
    return (await io.readDir(parent)).filter((name) => !name.startsWith(TEMP_PREFIX));
  }

  #list(prefix: ObjectKeyPrefix): Promise<ObjectListing[]> {
    return this.#parts.store.list(prefix);
  }

  #chain(collectionId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(collectionId) ?? Promise.resolve();
    const next = previous.then(work).catch((error) =>
      this.#parts.logger.error("snapshot upload work failed", {
        collectionId,
        error: errorText(error),
      })
    );
    this.#chains.set(collectionId, next);
    void next.then(() => {
      if (this.#chains.get(collectionId) === next) this.#chains.delete(collectionId);
    });
    return next;
  }
}

/**
 * A store for replaying the DLQ: a manifest's put waits for the puts of its
 * snapshot's data files running in the same pass, and fails when one of them
 * failed, so a remote manifest never points at missing data.
 */
class ManifestLastStore implements ObjectStore {
  readonly #inner: ObjectStore;
  /** snapshot key prefix → data-file puts of this pass. */
  readonly #dataPuts = new Map<string, Promise<void>[]>();

  constructor(inner: ObjectStore) {
    this.#inner = inner;
  }

  put(key: ObjectKey, bytes: Uint8Array): Promise<void> {
    return this.#inner.put(key, bytes);
  }

  async putFile(key: ObjectKey, path: string): Promise<void> {
    const folder = key.slice(0, key.lastIndexOf("/") + 1);
    if (!key.endsWith(MANIFEST)) {
      const put = this.#inner.putFile(key, path);
      this.#dataPuts.set(folder, [...(this.#dataPuts.get(folder) ?? []), put]);
      return await put;
    }
    const outcomes = await Promise.allSettled(this.#dataPuts.get(folder) ?? []);
    if (outcomes.some((outcome) => outcome.status === "rejected")) {
      throw new ObjectStoreError(`Cannot upload "${key}": its data files failed`, {
        kind: "server",
      });
    }
    await this.#inner.putFile(key, path);
  }

  get(key: ObjectKey): Promise<Uint8Array> {
    return this.#inner.get(key);
  }

  getToFile(key: ObjectKey, path: string): Promise<void> {
    return this.#inner.getToFile(key, path);
  }

  head(key: ObjectKey): Promise<ObjectHead | undefined> {
    return this.#inner.head(key);
  }

  delete(key: ObjectKey): Promise<void> {
    return this.#inner.delete(key);
  }

  list(prefix: ObjectKeyPrefix): Promise<ObjectListing[]> {
    return this.#inner.list(prefix);
  }
}

async function removeFlatDir(io: FileIO, path: string): Promise<void> {
  if ((await io.stat(path)) === undefined) return;
  for (const name of await io.readDir(path)) await io.remove(joinPath(path, name));
  await io.remove(path);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
