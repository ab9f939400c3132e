/**
 * Collections as a service: the catalog, the write path (whole-batch
 * validation, one WAL record, acknowledgement once durable), the search path
 * (graph + exact unindexed tail, metadata filters) and recovery on start.
 * Design and crash-safety protocol: `docs/ARCHITECTURE.md` ("Engine").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "../config/mod.ts";
 * import { loadKernel } from "../kernel/mod.ts";
 * import { createLogger } from "../obs/logger.ts";
 * import { createEngine } from "./mod.ts";
 * const dataDir = await Deno.makeTempDir();
 * const engine = await createEngine({
 *   config: loadConfig(["--data-dir", dataDir], {}),
 *   kernel: await loadKernel(),
 *   logger: createLogger({ level: "error" }),
 * });
 * await engine.createCollection({ name: "docs", dimension: 2, metric: "l2" });
 * await engine.upsert("docs", [{ id: "a", vector: new Float32Array([3, 4]) }]);
 * const [hit] = await engine.search("docs", { vector: new Float32Array([0, 0]), k: 1 });
 * assert.deepEqual([hit?.id, hit?.score], ["a", 5]);
 * await engine.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import type { Kernel } from "../kernel/mod.ts";
import type { Logger } from "../obs/logger.ts";
import { DiskFileIO } from "../storage/disk_file_io.ts";
import { type FileIO, joinPath, parentPath } from "../storage/file_io.ts";
import type { WalObserver } from "../storage/wal/mod.ts";
import { Catalog } from "./catalog.ts";
import { AkiEngine, type SnapshotObserver } from "./engine.ts";
import { createSnapshotUploads } from "./snapshot_uploads.ts";
import type { ObjectStoreObserver } from "../storage/objectstore/mod.ts";
import type { TierObserver } from "./tier_manager.ts";

export type * from "./engine_types.ts";
export { AkiEngine, type SnapshotObserver } from "./engine.ts";
export { Catalog, type CollectionRow, type CollectionState } from "./catalog.ts";
export { Collection, collectionDir } from "./collection.ts";
export { compileFilter, type MetadataPredicate } from "./filter.ts";
export { uuidV7 } from "./uuid_v7.ts";
export { createSnapshotUploads, SnapshotUploads } from "./snapshot_uploads.ts";
export { TierManager, type TierObserver } from "./tier_manager.ts";
export { ObjectStoreError } from "../storage/objectstore/mod.ts";

/** What `createEngine` needs. */
export interface CreateEngineOptions {
  readonly config: Config;
  readonly kernel: Kernel;
  readonly logger: Logger;
  /** The file system of the collections' directories; default the real disk. */
  readonly fileIO?: FileIO;
  /**
   * Wait until every collection is recovered before resolving (default true).
   * With false, the engine is returned at once and `readiness().recovered`
   * turns true later; collections still recovering answer with a `CapacityError`.
   */
  readonly awaitRecovery?: boolean;
  /** WAL timing hooks, for the metrics module; default none. */
  readonly walObserver?: WalObserver;
  /** Object-store hooks (S3 operations, breaker state, DLQ size), for the metrics module. */
  readonly objectStoreObserver?: ObjectStoreObserver;
  /** Tier hooks (transitions, tier per collection), for the metrics module. */
  readonly tierObserver?: TierObserver;
  /** Wall clock (ms since the epoch) for access times and idle rules; default `Date.now`. */
  readonly now?: () => number;
  /** Snapshot timings, for the metrics module (automatic and tier snapshots included). */
  readonly snapshotObserver?: SnapshotObserver;
}

/**
 * Opens the engine: creates the data directory, opens the catalog
 * (`<data_dir>/catalog.sqlite`, always on the real disk), finishes any
 * create/drop a crash interrupted, and recovers every collection from its WAL.
 *
 * @param options configuration, kernel, logger, optional file system
 * @returns the engine
 * @throws CorruptionError when the catalog is unreadable (a damaged WAL only fails its collection)
 */
export async function createEngine(options: CreateEngineOptions): Promise<AkiEngine> {
  const { config, kernel, logger } = options;
  const io = options.fileIO ?? new DiskFileIO();
  const dataDir = config.storage.dataDir;
  await Deno.mkdir(dataDir, { recursive: true });
  await io.mkdir(joinPath(dataDir, "collections"));
  await syncAncestors(io, joinPath(dataDir, "collections"));
  const catalog = Catalog.open(joinPath(dataDir, "catalog.sqlite"));
  const uploads = config.s3 === undefined
    ? undefined
    : createSnapshotUploads(config.s3, catalog.db, io, logger, options.objectStoreObserver);
  const engine = new AkiEngine({
    config,
    kernel,
    logger: logger.child({ component: "engine" }),
    io,
    catalog,
    walObserver: options.walObserver,
    uploads,
    tierObserver: options.tierObserver,
    now: options.now,
    snapshotObserver: options.snapshotObserver,
  });
  try {
    await engine.start();
  } catch (error) {
    catalog.close();
    throw error;
  }
  if (options.awaitRecovery !== false) await engine.whenRecovered();
  return engine;
}

/** fsyncs a directory and each of its ancestors, so a freshly made data directory is durable. */
async function syncAncestors(io: FileIO, path: string): Promise<void> {
  for (let dir = path;; dir = parentPath(dir)) {
    await io.syncDir(dir);
    if (parentPath(dir) === dir) return;
  }
}
