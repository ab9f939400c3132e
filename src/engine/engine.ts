/**
 * The engine: the catalog, the open collections and their lifecycle
 * (crash-safe create/drop, recovery on start). The protocol is described in
 * `docs/ARCHITECTURE.md` ("Engine").
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import { CapacityError, ConflictError, CorruptionError, NotFoundError } from "../errors.ts";
import { isMetric, type Kernel } from "../kernel/mod.ts";
import type { PointId } from "../index/mod.ts";
import { LIMITS } from "../limits.ts";
import type { Logger } from "../obs/logger.ts";
import { type FileIO, joinPath } from "../storage/file_io.ts";
import type { WalObserver } from "../storage/wal/mod.ts";
import { Catalog, type CollectionRow } from "./catalog.ts";
import {
  Collection,
  collectionDir,
  type CollectionWalOptions,
  type SnapshotPolicy,
} from "./collection.ts";
import type { SnapshotManifest } from "../storage/snapshot/mod.ts";
import type {
  CollectionInfo,
  CollectionSpec,
  Engine,
  PointInput,
  PointRecord,
  Readiness,
  RestoreOutcome,
  SearchRequest,
  SearchResult,
} from "./engine_types.ts";
import { removeTree } from "./file_tree.ts";
import { uuidV7 } from "./uuid_v7.ts";

/** A registered collection: still recovering, serving, or refused at recovery. */
type Slot =
  | { readonly status: "loading"; readonly row: CollectionRow }
  | { readonly status: "ready"; readonly row: CollectionRow; readonly collection: Collection }
  | { readonly status: "failed"; readonly row: CollectionRow; readonly error: string };

/** What {@linkcode AkiEngine} is built from. */
export interface EngineParts {
  readonly config: Config;
  readonly kernel: Kernel;
  readonly logger: Logger;
  readonly io: FileIO;
  readonly catalog: Catalog;
  /** WAL timing hooks for metrics (`akidb_wal_append_duration_seconds`, …). */
  readonly walObserver?: WalObserver | undefined;
}

/** The {@linkcode Engine} implementation; build it with `createEngine`. */
export class AkiEngine implements Engine {
  readonly #parts: EngineParts;
  readonly #slots = new Map<string, Slot>();
  /** name → id of every registered collection. */
  readonly #ids = new Map<string, string>();
  readonly #walOptions: CollectionWalOptions;
  #recovered = false;
  #recovery: Promise<void> = Promise.resolve();
  #closed = false;
  #snapshotTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * Use `createEngine`, which prepares the data directory and the catalog.
   *
   * @param parts configuration, kernel, logger, file system, open catalog
   */
  constructor(parts: EngineParts) {
    this.#parts = parts;
    const wal = parts.config.wal;
    this.#walOptions = {
      syncMode: wal.syncMode,
      segmentSizeBytes: wal.segmentSizeBytes,
      queueBytesMax: wal.maxPendingBytes,
      observer: parts.walObserver,
      onSnapshotRejected: ({ snapshotId, error }) =>
        parts.logger.error("snapshot failed verification at recovery; trying an older one", {
          snapshotId,
          error,
        }),
    };
  }

  get #dataDir(): string {
    return this.#parts.config.storage.dataDir;
  }

  /**
   * Finishes what a crash interrupted (see `docs/ARCHITECTURE.md`), then starts
   * recovering every ready collection in the background.
   */
  async start(): Promise<void> {
    const { catalog, io, logger } = this.#parts;
    const collectionsDir = joinPath(this.#dataDir, "collections");
    const ready: CollectionRow[] = [];
    for (const row of catalog.list()) {
      if (row.state === "ready") {
        ready.push(row);
        continue;
      }
      // 'creating' was never acknowledged: roll it back. 'dropping' was: finish it.
      await removeTree(io, collectionDir(this.#dataDir, row.id));
      catalog.delete(row.id);
      logger.warn("finished an interrupted collection change", {
        collection: row.name,
        collectionId: row.id,
        state: row.state,
      });
    }
    const known = new Set(ready.map((row) => row.id));
    for (const name of await io.readDir(collectionsDir)) {
      if (known.has(name)) continue;
      await removeTree(io, joinPath(collectionsDir, name));
      logger.warn("removed a directory with no catalog row", {
        path: joinPath(collectionsDir, name),
      });
    }
    for (const row of ready) this.#register({ status: "loading", row });
    this.#recovery = this.#recoverAll(ready);
    this.#startSnapshotTimer();
  }

  /** Checks every `snapshot.checkIntervalMs` which collections are due for a snapshot. */
  #startSnapshotTimer(): void {
    const { checkIntervalMs, walBytesThreshold, recordsThreshold, intervalMs } =
      this.#parts.config.snapshot;
    if (walBytesThreshold === 0 && recordsThreshold === 0 && intervalMs === 0) return;
    const policy: SnapshotPolicy = { walBytesThreshold, recordsThreshold, intervalMs };
    const timer = setInterval(() => this.#autoSnapshot(policy), checkIntervalMs);
    Deno.unrefTimer(timer);
    this.#snapshotTimer = timer;
  }

  #autoSnapshot(policy: SnapshotPolicy): void {
    const nowMs = performance.now();
    for (const slot of this.#slots.values()) {
      if (slot.status !== "ready" || slot.collection.snapshotBusy) continue;
      if (!slot.collection.snapshotDue(policy, nowMs)) continue;
      this.#snapshotOf(slot.collection, "automatic").catch(() => undefined);
    }
  }

  async #snapshotOf(collection: Collection, reason: string): Promise<SnapshotManifest> {
    const startedAtMs = performance.now();
    const fields = { collection: collection.row.name, reason };
    try {
      const manifest = await collection.createSnapshot(this.#parts.config.snapshot.retention);
      this.#parts.logger.info("snapshot created", {
        ...fields,
        snapshotId: manifest.snapshot_id,
        lsn: manifest.lsn,
        vectors: manifest.vector_count,
        ms: Math.round(performance.now() - startedAtMs),
      });
      return manifest;
    } catch (error) {
      this.#parts.logger.error("snapshot failed", { ...fields, error: errorText(error) });
      throw error;
    }
  }

  /** Resolves once every collection is recovered or failed. */
  whenRecovered(): Promise<void> {
    return this.#recovery;
  }

  async #recoverAll(rows: readonly CollectionRow[]): Promise<void> {
    for (const row of rows) {
      const startedAtMs = performance.now();
      try {
        const collection = await Collection.open(
          this.#parts.kernel,
          this.#parts.io,
          this.#dataDir,
          row,
          this.#walOptions,
        );
        if (this.#closed) {
          await collection.close();
          return;
        }
        this.#slots.set(row.id, { status: "ready", row, collection });
        this.#parts.logger.info("recovered collection", {
          collection: row.name,
          vectors: collection.vectorCount,
          lsn: collection.appliedLsn,
          ms: Math.round(performance.now() - startedAtMs),
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#slots.set(row.id, { status: "failed", row, error: message });
        this.#parts.logger.error("collection failed to recover", {
          collection: row.name,
          collectionId: row.id,
          error: message,
        });
      }
    }
    this.#recovered = true;
  }

  readiness(): Readiness {
    const failedCollections = [...this.#slots.values()].flatMap((slot) =>
      slot.status === "failed" ? [{ name: slot.row.name, error: slot.error }] : []
    );
    return { recovered: this.#recovered, failedCollections };
  }

  async createCollection(spec: CollectionSpec): Promise<CollectionInfo> {
    this.#checkOpen();
    const row = this.#newRow(spec);
    if (this.#ids.has(row.name)) {
      throw new ConflictError(`Cannot create collection "${row.name}": name is taken`, {
        code: "collection_exists",
      });
    }
    const { catalog, io, kernel } = this.#parts;
    catalog.insert(row);
    const dir = collectionDir(this.#dataDir, row.id);
    let collection: Collection | undefined;
    try {
      await io.mkdir(joinPath(dir, "wal"));
      await io.syncDir(dir);
      await io.syncDir(joinPath(this.#dataDir, "collections"));
      collection = await Collection.open(kernel, io, this.#dataDir, row, this.#walOptions);
      catalog.setState(row.id, "ready");
    } catch (error) {
      await collection?.close().catch(() => undefined);
      await removeTree(io, dir).catch(() => undefined);
      catalog.delete(row.id);
      throw error;
    }
    const ready = { ...row, state: "ready" as const };
    this.#register({ status: "ready", row: ready, collection });
    this.#parts.logger.info("created collection", { collection: row.name, collectionId: row.id });
    return infoOf(ready, 0);
  }

  listCollections(): CollectionInfo[] {
    return [...this.#slots.values()].flatMap((slot) =>
      slot.status === "ready" ? [infoOf(slot.row, slot.collection.vectorCount)] : []
    );
  }

  getCollection(c: string): CollectionInfo {
    const collection = this.collection(c);
    return infoOf(collection.row, collection.vectorCount);
  }

  async deleteCollection(c: string): Promise<void> {
    this.#checkOpen();
    const slot = this.#slot(c);
    if (slot.status === "loading") throw notReady(slot.row);
    const { catalog, io, logger } = this.#parts;
    catalog.setState(slot.row.id, "dropping");
    this.#slots.delete(slot.row.id);
    this.#ids.delete(slot.row.name);
    if (slot.status === "ready") await slot.collection.close().catch(() => undefined);
    await removeTree(io, collectionDir(this.#dataDir, slot.row.id));
    catalog.delete(slot.row.id);
    logger.info("dropped collection", { collection: slot.row.name, collectionId: slot.row.id });
  }

  upsert(c: string, points: readonly PointInput[]): Promise<{ upserted: number; lsn: number }> {
    const maxBatchPoints = this.#parts.config.server.maxBatchPoints;
    if (points.length > maxBatchPoints) {
      return Promise.reject(
        new RangeError(
          `Cannot upsert: batch holds ${points.length} points, expected at most ${maxBatchPoints}`,
        ),
      );
    }
    try {
      return this.collection(c).upsert(points);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  getPoint(c: string, id: PointId): PointRecord | undefined {
    return this.collection(c).getPoint(id);
  }

  async deletePoint(c: string, id: PointId): Promise<{ deleted: boolean; lsn: number }> {
    return await this.collection(c).deletePoint(id);
  }

  search(c: string, request: SearchRequest): Promise<SearchResult[]> {
    try {
      return Promise.resolve(this.collection(c).search(request));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Checkpoint hook for the snapshot module: after a snapshot covering every
   * record up to `snapshotLsn` is durable, drop the WAL segments before it.
   *
   * @param c the collection's id or name
   * @param snapshotLsn the LSN the snapshot covers
   * @returns how many WAL segments were deleted
   */
  checkpoint(c: string, snapshotLsn: number): Promise<number> {
    try {
      return this.collection(c).checkpoint(snapshotLsn);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Takes a snapshot of a collection now (see `Collection.createSnapshot`).
   *
   * @param c the collection's id or name
   * @returns the new snapshot's manifest
   */
  async createSnapshot(c: string): Promise<SnapshotManifest> {
    return await this.#snapshotOf(this.collection(c), "requested");
  }

  /**
   * Lists a collection's snapshots, newest first.
   *
   * @param c the collection's id or name
   * @returns their manifests
   */
  async listSnapshots(c: string): Promise<SnapshotManifest[]> {
    return await this.collection(c).listSnapshots();
  }

  /**
   * Restores a snapshot into a running collection (see `Collection.restoreSnapshot`).
   *
   * @param c the collection's id or name
   * @param snapshotId `"latest"` or a snapshot id
   * @returns the snapshot restored and the snapshot recording the restore
   * @throws NotFoundError for an unknown snapshot; CorruptionError when it fails verification
   */
  async restoreSnapshot(c: string, snapshotId: string): Promise<RestoreOutcome> {
    const collection = this.collection(c);
    const startedAtMs = performance.now();
    const fields = { collection: collection.row.name, snapshotId };
    try {
      const outcome = await collection.restoreSnapshot(
        snapshotId,
        this.#parts.config.snapshot.retention,
      );
      this.#parts.logger.warn("collection restored from snapshot", {
        ...fields,
        restored: outcome.restored.snapshot_id,
        atLsn: outcome.checkpoint.lsn,
        ms: Math.round(performance.now() - startedAtMs),
      });
      return outcome;
    } catch (error) {
      this.#parts.logger.error("restore refused", { ...fields, error: errorText(error) });
      throw error;
    }
  }

  /**
   * A ready collection, for modules that work on one directly (snapshots, tiers).
   *
   * @param c the collection's id or name
   * @returns the open collection
   * @throws NotFoundError when there is none; CorruptionError when it failed recovery;
   *   CapacityError while it is still recovering
   */
  collection(c: string): Collection {
    this.#checkOpen();
    const slot = this.#slot(c);
    if (slot.status === "ready") return slot.collection;
    if (slot.status === "loading") throw notReady(slot.row);
    throw new CorruptionError(
      `Cannot use collection "${slot.row.name}": recovery failed: ${slot.error}`,
      { code: "collection_unavailable" },
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#snapshotTimer !== undefined) clearInterval(this.#snapshotTimer);
    await this.#recovery;
    const errors: unknown[] = [];
    for (const slot of this.#slots.values()) {
      if (slot.status === "ready") await slot.collection.close().catch((e) => errors.push(e));
    }
    this.#slots.clear();
    this.#ids.clear();
    this.#parts.catalog.close();
    if (errors.length > 0) throw new AggregateError(errors, "Cannot close engine: a WAL failed");
  }

  #register(slot: Slot): void {
    this.#slots.set(slot.row.id, slot);
    this.#ids.set(slot.row.name, slot.row.id);
  }

  #slot(c: string): Slot {
    const slot = this.#slots.get(c) ?? this.#slots.get(this.#ids.get(c) ?? "");
    if (slot === undefined) {
      throw new NotFoundError(`Cannot find collection ${JSON.stringify(c)}: no such name or id`, {
        code: "collection_not_found",
      });
    }
    return slot;
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new CapacityError("Cannot serve: engine is closed", { code: "shutting_down" });
    }
  }

  #newRow(spec: CollectionSpec): CollectionRow {
    const defaults = this.#parts.config.index;
    const { name, dimension, metric } = spec;
    if (typeof name !== "string" || !LIMITS.collectionNamePattern.test(name)) {
      throw new RangeError(
        `Cannot create collection ${
          JSON.stringify(name)
        }: name must match ${LIMITS.collectionNamePattern.source}`,
      );
    }
    const subject = `Cannot create collection "${name}"`;
    if (!isMetric(metric)) {
      throw new TypeError(
        `${subject}: metric is ${JSON.stringify(metric)}, expected cosine, l2 or dot`,
      );
    }
    return {
      id: uuidV7(),
      name,
      dimension: checkRange(
        subject,
        "dimension",
        dimension,
        LIMITS.dimensionMin,
        LIMITS.dimensionMax,
      ),
      metric,
      m: checkRange(subject, "m", spec.hnsw?.m ?? defaults.defaultM, LIMITS.mMin, LIMITS.mMax),
      efConstruction: checkRange(
        subject,
        "efConstruction",
        spec.hnsw?.efConstruction ?? defaults.defaultEfConstruction,
        LIMITS.efConstructionMin,
        LIMITS.efConstructionMax,
      ),
      efSearch: checkRange(
        subject,
        "efSearch",
        spec.hnsw?.efSearch ?? defaults.defaultEfSearch,
        LIMITS.efSearchMin,
        LIMITS.efSearchMax,
      ),
      createdAt: new Date().toISOString(),
      state: "creating",
    };
  }
}

function checkRange(
  subject: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${subject}: ${name} is ${value}, expected an integer ${min}..${max}`);
  }
  return value;
}

function notReady(row: CollectionRow): CapacityError {
  return new CapacityError(`Cannot use collection "${row.name}": it is still recovering`, {
    code: "collection_loading",
  });
}

function infoOf(row: CollectionRow, vectorCount: number): CollectionInfo {
  return {
    collectionId: row.id,
    name: row.name,
    dimension: row.dimension,
    metric: row.metric,
    hnsw: { m: row.m, efConstruction: row.efConstruction, efSearch: row.efSearch },
    vectorCount,
    tier: "hot",
    createdAt: row.createdAt,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
