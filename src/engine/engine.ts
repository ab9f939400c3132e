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
import { configureLiveIndexes } from "./live_index.ts";
import type { DlqStatus, RetryAllReport, SnapshotUploads } from "./snapshot_uploads.ts";
import { TierManager, type TierObserver, type TierStatus } from "./tier_manager.ts";
import { TierTable } from "./tier_table.ts";

/**
 * A registered collection: still recovering, serving, or refused at recovery.
 * A ready collection's residency (hot/warm/cold, its open `Collection`) is the
 * tier manager's.
 */
type Slot =
  | { readonly status: "loading"; readonly row: CollectionRow }
  | { readonly status: "ready"; readonly row: CollectionRow }
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
  /** Snapshot uploads to S3; undefined when no bucket is configured. */
  readonly uploads?: SnapshotUploads | undefined;
  /** Tier metrics hooks (`akidb_tier_transitions_total`, `akidb_collection_tier`). */
  readonly tierObserver?: TierObserver | undefined;
  /** Wall clock for access times and idle rules; default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Snapshot timings (`akidb_snapshot_duration_seconds`), every reason included. */
  readonly snapshotObserver?: SnapshotObserver | undefined;
}

/** Hears how long each snapshot creation or restore took. */
export interface SnapshotObserver {
  onSnapshot(operation: "create" | "restore", seconds: number): void;
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
  /** Owns every ready collection's residency (hot/warm/cold). */
  readonly tiers: TierManager;

  /**
   * Use `createEngine`, which prepares the data directory and the catalog.
   *
   * @param parts configuration, kernel, logger, file system, open catalog
   */
  constructor(parts: EngineParts) {
    this.#parts = parts;
    configureLiveIndexes({
      tailBytesMax: parts.config.index.tailMaxMib * 1024 * 1024,
      admitWaitMsMax: parts.config.index.admitWaitMs,
      compactTombstoneRatio: parts.config.index.compactTombstoneRatio,
    });
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
    const tier = parts.config.tier;
    this.tiers = new TierManager({
      host: {
        open: (row) =>
          Collection.open(parts.kernel, parts.io, this.#dataDir, row, this.#walOptions),
        snapshot: (collection, reason) => this.#snapshotOf(collection, reason),
        dirOf: (id) => collectionDir(this.#dataDir, id),
      },
      io: parts.io,
      table: new TierTable(parts.catalog.db),
      uploads: parts.uploads,
      logger: parts.logger.child({ component: "tiers" }),
      rules: {
        hotToWarmIdleMs: tier.hotToWarmIdleMs,
        warmToColdIdleMs: tier.warmToColdIdleMs,
        hotMemoryBudgetBytes: tier.hotMemoryBudgetBytes,
      },
      checkIntervalMs: tier.checkIntervalMs,
      observer: parts.tierObserver,
      now: parts.now,
    });
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
    this.tiers.start();
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
    for (const collection of this.tiers.hotCollections()) {
      if (collection.snapshotBusy || !collection.snapshotDue(policy, nowMs)) continue;
      this.#snapshotOf(collection, "automatic").catch(() => undefined);
    }
  }

  async #snapshotOf(collection: Collection, reason: string): Promise<SnapshotManifest> {
    const startedAtMs = performance.now();
    const fields = { collection: collection.row.name, reason };
    try {
      const manifest = await collection.createSnapshot(this.#parts.config.snapshot.retention);
      this.#parts.snapshotObserver?.onSnapshot("create", (performance.now() - startedAtMs) / 1000);
      this.#parts.logger.info("snapshot created", {
        ...fields,
        snapshotId: manifest.snapshot_id,
        lsn: manifest.lsn,
        vectors: manifest.vector_count,
        ms: Math.round(performance.now() - startedAtMs),
      });
      this.#upload(collection, manifest);
      return manifest;
    } catch (error) {
      this.#parts.logger.error("snapshot failed", { ...fields, error: errorText(error) });
      throw error;
    }
  }

  /** Schedules the background upload of a durable snapshot (never waited for by a write). */
  #upload(collection: Collection, manifest: SnapshotManifest): void {
    const id = collection.row.id;
    void this.#parts.uploads?.snapshotDurable(
      id,
      collectionDir(this.#dataDir, id),
      manifest.snapshot_id,
    );
  }

  /** Resolves once every collection is recovered or failed. */
  whenRecovered(): Promise<void> {
    return this.#recovery;
  }

  async #recoverAll(rows: readonly CollectionRow[]): Promise<void> {
    for (const row of rows) {
      const startedAtMs = performance.now();
      const stored = this.tiers.storedRow(row.id);
      if (stored !== undefined && stored.tier !== "hot") {
        // Warm and cold collections stay unloaded until accessed.
        this.tiers.addDemoted(row, stored);
        this.#slots.set(row.id, { status: "ready", row });
        continue;
      }
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
        this.tiers.addHot(row, collection);
        this.#slots.set(row.id, { status: "ready", row });
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
    this.tiers.addHot(ready, collection);
    this.#register({ status: "ready", row: ready });
    this.#parts.logger.info("created collection", { collection: row.name, collectionId: row.id });
    return infoOf(ready, { vectorCount: 0, tier: "hot" });
  }

  listCollections(): CollectionInfo[] {
    return [...this.#slots.values()].flatMap((slot) =>
      slot.status === "ready" ? [infoOf(slot.row, this.tiers.status(slot.row.id))] : []
    );
  }

  getCollection(c: string): CollectionInfo {
    const row = this.#readyRow(c);
    return infoOf(row, this.tiers.status(row.id));
  }

  async deleteCollection(c: string): Promise<void> {
    this.#checkOpen();
    const slot = this.#slot(c);
    if (slot.status === "loading") throw notReady(slot.row);
    const { catalog, io, logger } = this.#parts;
    catalog.setState(slot.row.id, "dropping");
    this.#slots.delete(slot.row.id);
    this.#ids.delete(slot.row.name);
    if (slot.status === "ready") await this.tiers.remove(slot.row.id);
    await removeTree(io, collectionDir(this.#dataDir, slot.row.id));
    catalog.delete(slot.row.id);
    void this.#parts.uploads?.deleteCollection(slot.row.id);
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
    return this.#use(c, (collection) => collection.upsert(points));
  }

  getPoint(c: string, id: PointId): Promise<PointRecord | undefined> {
    return this.#use(c, (collection) => collection.getPoint(id));
  }

  deletePoint(c: string, id: PointId): Promise<{ deleted: boolean; lsn: number }> {
    return this.#use(c, (collection) => collection.deletePoint(id));
  }

  search(c: string, request: SearchRequest): Promise<SearchResult[]> {
    return this.#use(c, (collection) => collection.search(request));
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
    return this.#use(c, (collection) => collection.checkpoint(snapshotLsn));
  }

  /**
   * Takes a snapshot of a collection now (see `Collection.createSnapshot`).
   *
   * @param c the collection's id or name
   * @returns the new snapshot's manifest
   */
  createSnapshot(c: string): Promise<SnapshotManifest> {
    return this.#use(c, (collection) => this.#snapshotOf(collection, "requested"));
  }

  /**
   * Lists a collection's snapshots, newest first.
   *
   * @param c the collection's id or name
   * @returns their manifests
   */
  listSnapshots(c: string): Promise<SnapshotManifest[]> {
    return this.#use(c, (collection) => collection.listSnapshots());
  }

  /**
   * Restores a snapshot into a running collection (see `Collection.restoreSnapshot`).
   *
   * @param c the collection's id or name
   * @param snapshotId `"latest"` or a snapshot id
   * @returns the snapshot restored and the snapshot recording the restore
   * @throws NotFoundError for an unknown snapshot; CorruptionError when it fails verification
   */
  restoreSnapshot(c: string, snapshotId: string): Promise<RestoreOutcome> {
    return this.#use(c, (collection) => this.#restore(collection, snapshotId));
  }

  async #restore(collection: Collection, snapshotId: string): Promise<RestoreOutcome> {
    const startedAtMs = performance.now();
    const fields = { collection: collection.row.name, snapshotId };
    try {
      const outcome = await collection.restoreSnapshot(
        snapshotId,
        this.#parts.config.snapshot.retention,
      );
      this.#parts.snapshotObserver?.onSnapshot("restore", (performance.now() - startedAtMs) / 1000);
      this.#parts.logger.warn("collection restored from snapshot", {
        ...fields,
        restored: outcome.restored.snapshot_id,
        atLsn: outcome.checkpoint.lsn,
        ms: Math.round(performance.now() - startedAtMs),
      });
      this.#upload(collection, outcome.checkpoint);
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
    const row = this.#readyRow(c);
    const collection = this.tiers.hotCollection(row.id);
    if (collection === undefined) {
      throw new CapacityError(`Cannot use collection "${row.name}": it is not loaded (not hot)`, {
        code: "collection_loading",
      });
    }
    return collection;
  }

  /**
   * A collection's tier state.
   *
   * @param c the collection's id or name
   * @returns tier, pin, access statistics
   */
  tierStatus(c: string): TierStatus {
    return this.tiers.status(this.#readyRow(c).id);
  }

  /**
   * Loads a warm or cold collection now.
   *
   * @param c the collection's id or name
   * @returns the tier state afterwards
   */
  promote(c: string): Promise<TierStatus> {
    return this.#tierCall(c, (id) => this.tiers.promote(id));
  }

  /**
   * Demotes a collection (see `TierManager.demote`).
   *
   * @param c the collection's id or name
   * @param to `warm` or `cold`
   * @returns the tier state afterwards
   */
  demote(c: string, to: "warm" | "cold"): Promise<TierStatus> {
    return this.#tierCall(c, (id) => this.tiers.demote(id, to));
  }

  /**
   * Pins a collection hot.
   *
   * @param c the collection's id or name
   * @returns the tier state afterwards
   */
  pin(c: string): Promise<TierStatus> {
    return this.#tierCall(c, (id) => this.tiers.pin(id));
  }

  /**
   * Unpins a collection.
   *
   * @param c the collection's id or name
   * @returns the tier state afterwards
   */
  unpin(c: string): Promise<TierStatus> {
    return this.#tierCall(c, (id) => Promise.resolve(this.tiers.unpin(id)));
  }

  /**
   * The dead-letter queue and the circuit breaker.
   *
   * @returns size, entries, breaker state
   * @throws ConflictError when no S3 is configured
   */
  dlqStatus(): DlqStatus {
    return this.#requireUploads("read the dead-letter queue").status();
  }

  /**
   * Replays the dead-letter queue, then deletes remote snapshots no longer on local disk.
   *
   * @returns succeeded, failed, remaining, discarded, breaker state
   * @throws ConflictError when no S3 is configured
   */
  retryDeadLetters(): Promise<RetryAllReport> {
    try {
      const uploads = this.#requireUploads("retry the dead-letter queue");
      const local = new Map<string, string>();
      for (const slot of this.#slots.values()) {
        if (slot.status !== "ready" || this.tiers.status(slot.row.id).tier === "cold") continue;
        local.set(slot.row.id, collectionDir(this.#dataDir, slot.row.id));
      }
      return uploads.retryAll(local);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Closes the object store's circuit breaker by hand.
   *
   * @returns its state (0)
   * @throws ConflictError when no S3 is configured
   */
  resetCircuitBreaker(): { breakerState: number } {
    return { breakerState: this.#requireUploads("reset the circuit breaker").resetBreaker() };
  }

  /** The snapshot uploads, when S3 is configured (tests, benchmarks). */
  get uploads(): SnapshotUploads | undefined {
    return this.#parts.uploads;
  }

  #requireUploads(action: string): SnapshotUploads {
    const uploads = this.#parts.uploads;
    if (uploads === undefined) {
      throw new ConflictError(`Cannot ${action}: no S3 bucket is configured`, {
        code: "s3_not_configured",
      });
    }
    return uploads;
  }

  async #tierCall(c: string, call: (id: string) => Promise<TierStatus>): Promise<TierStatus> {
    return await call(this.#readyRow(c).id);
  }

  /** Runs work on a collection under a tier lease (promoting it first when warm or cold). */
  async #use<T>(c: string, work: (collection: Collection) => T | Promise<T>): Promise<T> {
    return await this.tiers.use(this.#readyRow(c).id, work);
  }

  /**
   * The row of a ready collection.
   *
   * @throws NotFoundError, CorruptionError (failed recovery), CapacityError (still recovering)
   */
  #readyRow(c: string): CollectionRow {
    this.#checkOpen();
    const slot = this.#slot(c);
    if (slot.status === "ready") return slot.row;
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
    await this.tiers.close().catch((e) => errors.push(e));
    await this.#parts.uploads?.close().catch((e) => errors.push(e));
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

function infoOf(
  row: CollectionRow,
  status: Pick<TierStatus, "vectorCount" | "tier">,
): CollectionInfo {
  return {
    collectionId: row.id,
    name: row.name,
    dimension: row.dimension,
    metric: row.metric,
    hnsw: { m: row.m, efConstruction: row.efConstruction, efSearch: row.efSearch },
    vectorCount: status.vectorCount,
    tier: status.tier,
    createdAt: row.createdAt,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
