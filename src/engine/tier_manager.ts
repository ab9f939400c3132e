/**
 * Hot/warm/cold tiering with real data movement (`docs/ARCHITECTURE.md`,
 * "Tiering"). The manager owns every served collection's residency:
 *
 * - hot: the {@linkcode Collection} is open (index, tail, metadata in memory, WAL open);
 * - warm: a snapshot at the last LSN is on local disk, the collection is closed, memory freed;
 * - cold: that snapshot is verified in S3 and the local files are removed.
 *
 * Every operation on a collection runs inside a lease ({@linkcode TierManager.acquire} /
 * `release`): acquiring a warm or cold collection promotes it first, and
 * concurrent acquirers share ONE promotion. A demotion first stops new leases
 * (they wait for it, then promote again), then waits until no lease is held,
 * so no write can be in flight while the state moves: a write is never lost.
 *
 * @module
 */

import { ConflictError, NotFoundError } from "../errors.ts";
import type { Logger } from "../obs/logger.ts";
import { type FileIO, joinPath } from "../storage/file_io.ts";
import type { SnapshotManifest } from "../storage/snapshot/mod.ts";
import { planTransitions, type TierName, type TierRules } from "../storage/tier/mod.ts";
import type { CollectionRow } from "./catalog.ts";
import type { Collection } from "./collection.ts";
import { removeTree } from "./file_tree.ts";
import type { SnapshotUploads } from "./snapshot_uploads.ts";
import type { TierRow, TierTable } from "./tier_table.ts";
import type { TierStatus } from "./engine_types.ts";

/** A collection's tier state, as `GET …/tier` shows it. */
export type { TierStatus };

/** What the manager needs from the engine. */
export interface TierHost {
  /** Opens a collection from its local files (newest snapshot + WAL). */
  open(row: CollectionRow): Promise<Collection>;
  /** Takes a snapshot now (and schedules its upload). */
  snapshot(collection: Collection, reason: string): Promise<SnapshotManifest>;
  /** `<data_dir>/collections/<id>`. */
  dirOf(id: string): string;
}

/** Metrics hooks. */
export interface TierObserver {
  onTransition(from: TierName, to: TierName): void;
  onTier(collection: string, tier: TierName): void;
}

/** What the manager is built from. */
export interface TierManagerParts {
  readonly host: TierHost;
  readonly io: FileIO;
  readonly table: TierTable;
  /** Undefined when no S3 is configured: no cold tier. */
  readonly uploads: SnapshotUploads | undefined;
  readonly logger: Logger;
  readonly rules: Omit<TierRules, "coldEnabled">;
  readonly checkIntervalMs: number;
  readonly observer?: TierObserver | undefined;
  /** Wall clock, ms since the epoch. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

interface Transition {
  readonly kind: "promote" | "demote";
  readonly done: Promise<void>;
}

interface Resident {
  readonly row: CollectionRow;
  tier: TierName;
  collection: Collection | undefined;
  pinned: boolean;
  lastAccessedAtMs: number;
  accessCount: number;
  snapshotId: string | undefined;
  vectorCount: number;
  leases: number;
  idleWaiters: (() => void)[];
  transition: Transition | undefined;
  dirty: boolean;
  removed: boolean;
}

/** The tier manager. */
export class TierManager {
  readonly #parts: TierManagerParts;
  readonly #residents = new Map<string, Resident>();
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticking: Promise<void> | undefined;
  /** Promotions performed (tests check that concurrent accesses share one). */
  promotionCount = 0;

  /** @param parts host, table, uploads, rules */
  constructor(parts: TierManagerParts) {
    this.#parts = parts;
    this.#now = parts.now ?? Date.now;
  }

  /** Whether a cold tier exists. */
  get coldEnabled(): boolean {
    return this.#parts.uploads !== undefined;
  }

  /**
   * The stored tier row of a collection, read at start to decide whether to load it.
   *
   * @param id the collection id
   * @returns the row, or undefined for a collection never tracked (hot)
   */
  storedRow(id: string): TierRow | undefined {
    return this.#parts.table.get(id);
  }

  /**
   * Registers an open (hot) collection.
   *
   * @param row the catalog row
   * @param collection the open collection
   */
  addHot(row: CollectionRow, collection: Collection): void {
    const stored = this.#parts.table.get(row.id);
    const resident = this.#resident(row, stored, "hot");
    resident.collection = collection;
    resident.dirty = stored === undefined || stored.tier !== "hot";
    this.#residents.set(row.id, resident);
    this.#persist(resident);
  }

  /**
   * Registers a warm or cold collection without loading it.
   *
   * @param row the catalog row
   * @param stored its tier row
   */
  addDemoted(row: CollectionRow, stored: TierRow): void {
    this.#residents.set(row.id, this.#resident(row, stored, stored.tier));
    this.#parts.observer?.onTier(row.name, stored.tier);
  }

  /**
   * Leases a collection, promoting it first when warm or cold; concurrent
   * callers wait for the same promotion. Counts as an access.
   *
   * @param id the collection id
   * @returns the open collection; call `release(id)` when done
   * @throws NotFoundError when removed; what the promotion threw when it failed
   */
  async acquire(id: string): Promise<Collection> {
    for (;;) {
      const r = this.#get(id);
      if (r.transition !== undefined) {
        const { kind, done } = r.transition;
        if (kind === "promote") await done;
        else await done.catch(() => undefined);
        continue;
      }
      if (r.tier === "hot" && r.collection !== undefined) {
        r.leases++;
        r.lastAccessedAtMs = this.#now();
        r.accessCount++;
        r.dirty = true;
        return r.collection;
      }
      this.#startTransition(r, "promote", () => this.#promote(r));
    }
  }

  /**
   * Ends a lease.
   *
   * @param id the collection id
   */
  release(id: string): void {
    const r = this.#residents.get(id);
    if (r === undefined) return;
    r.leases--;
    if (r.leases === 0) {
      const waiters = r.idleWaiters;
      r.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Runs work on a leased collection.
   *
   * @param id the collection id
   * @param work what to do with it
   * @returns its result
   */
  async use<T>(id: string, work: (collection: Collection) => T | Promise<T>): Promise<T> {
    const collection = await this.acquire(id);
    try {
      return await work(collection);
    } finally {
      this.release(id);
    }
  }

  /**
   * The open collection when hot and not moving, else undefined (no lease, no access counted).
   *
   * @param id the collection id
   * @returns the collection or undefined
   */
  hotCollection(id: string): Collection | undefined {
    const r = this.#residents.get(id);
    return r?.transition === undefined ? r?.collection : undefined;
  }

  /** @returns every hot collection not currently moving */
  hotCollections(): Collection[] {
    return [...this.#residents.values()].flatMap((r) =>
      r.transition === undefined && r.collection !== undefined ? [r.collection] : []
    );
  }

  /**
   * A collection's tier state.
   *
   * @param id the collection id
   * @returns the status
   */
  status(id: string): TierStatus {
    const r = this.#get(id);
    return {
      tier: r.tier,
      pinned: r.pinned,
      lastAccessedAt: new Date(r.lastAccessedAtMs).toISOString(),
      accessCount: r.accessCount,
      vectorCount: r.collection?.vectorCount ?? r.vectorCount,
      memoryBytes: r.collection?.memoryBytes ?? 0,
      snapshotId: r.collection === undefined ? r.snapshotId : undefined,
    };
  }

  /**
   * Promotes a collection to hot (no-op when hot).
   *
   * @param id the collection id
   * @returns the status afterwards
   */
  async promote(id: string): Promise<TierStatus> {
    await this.use(id, () => undefined);
    return this.status(id);
  }

  /**
   * Demotes a collection to warm or cold. A pinned collection is refused
   * (409 `collection_pinned`: unpin it first); cold without S3 is refused (409
   * `cold_tier_unavailable`); asking a cold collection for warm is refused (409).
   * When the cold step fails (S3 down), the collection stays warm with its
   * local files.
   *
   * @param id the collection id
   * @param to the target tier
   * @returns the status afterwards
   */
  async demote(id: string, to: "warm" | "cold"): Promise<TierStatus> {
    const r = this.#get(id);
    const subject = `Cannot demote collection "${r.row.name}" to ${to}`;
    if (r.pinned) {
      throw new ConflictError(`${subject}: it is pinned; unpin it first`, {
        code: "collection_pinned",
      });
    }
    if (to === "cold" && !this.coldEnabled) {
      throw new ConflictError(`${subject}: no S3 bucket is configured`, {
        code: "cold_tier_unavailable",
      });
    }
    await this.#transitionTo(r, to);
    return this.status(id);
  }

  /**
   * Pins a collection: promoted to hot now and never demoted by the rules.
   *
   * @param id the collection id
   * @returns the status
   */
  async pin(id: string): Promise<TierStatus> {
    const r = this.#get(id);
    r.pinned = true;
    r.dirty = true;
    this.#persist(r);
    return await this.promote(id);
  }

  /**
   * Unpins a collection (it stays where it is until the rules move it).
   *
   * @param id the collection id
   * @returns the status
   */
  unpin(id: string): TierStatus {
    const r = this.#get(id);
    r.pinned = false;
    r.dirty = true;
    this.#persist(r);
    return this.status(id);
  }

  /**
   * Unregisters a collection being dropped: waits for a running move and for
   * leases to end, then closes it if open and deletes its tier row.
   *
   * @param id the collection id
   */
  async remove(id: string): Promise<void> {
    const r = this.#residents.get(id);
    if (r === undefined) return;
    while (r.transition !== undefined) await r.transition.done.catch(() => undefined);
    r.removed = true;
    this.#residents.delete(id);
    await this.#idle(r);
    await r.collection?.close().catch(() => undefined);
    r.collection = undefined;
    this.#parts.table.delete(id);
  }

  /** Applies the rules every `checkIntervalMs` in the background. */
  start(): void {
    const timer = setInterval(() => void this.applyRules(), this.#parts.checkIntervalMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /**
   * Applies the rules once (the worker's tick): persists access statistics,
   * then carries out the due demotions one at a time. Failures are logged.
   *
   * @returns the transitions carried out
   */
  applyRules(): Promise<void> {
    if (this.#ticking !== undefined) return this.#ticking;
    this.#ticking = this.#tick().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  /** Stops the worker, persists statistics, closes every open collection. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#ticking;
    const errors: unknown[] = [];
    for (const r of this.#residents.values()) {
      await r.transition?.done.catch(() => undefined);
      this.#persist(r);
      await r.collection?.close().catch((error) => errors.push(error));
      r.collection = undefined;
    }
    this.#residents.clear();
    if (errors.length > 0) throw new AggregateError(errors, "Cannot close engine: a WAL failed");
  }

  async #tick(): Promise<void> {
    for (const r of this.#residents.values()) this.#persist(r);
    const candidates = [...this.#residents.values()]
      .filter((r) => r.transition === undefined)
      .map((r) => ({
        id: r.row.id,
        tier: r.tier,
        pinned: r.pinned,
        lastAccessedAtMs: r.lastAccessedAtMs,
        memoryBytes: r.collection?.memoryBytes ?? 0,
      }));
    const rules = { ...this.#parts.rules, coldEnabled: this.coldEnabled };
    for (const step of planTransitions(candidates, rules, this.#now())) {
      const r = this.#residents.get(step.id);
      if (r === undefined || r.pinned) continue;
      try {
        await this.#transitionTo(r, step.to);
      } catch (error) {
        this.#parts.logger.warn("tier demotion failed", {
          collection: r.row.name,
          to: step.to,
          reason: step.reason,
          error: errorText(error),
        });
      }
    }
  }

  async #transitionTo(r: Resident, to: "warm" | "cold"): Promise<void> {
    for (;;) {
      if (r.transition !== undefined) {
        await r.transition.done.catch(() => undefined);
        continue;
      }
      if (r.removed) throw notFound(r.row);
      if (r.tier === to) return;
      if (r.tier === "cold") {
        throw new ConflictError(
          `Cannot demote collection "${r.row.name}" to warm: it is cold; promote it instead`,
          { code: "invalid_tier_transition" },
        );
      }
      const step = r.tier === "hot" ? () => this.#toWarm(r) : () => this.#toCold(r);
      await this.#startTransition(r, "demote", step);
    }
  }

  #startTransition(r: Resident, kind: Transition["kind"], work: () => Promise<void>) {
    const done = work().finally(() => (r.transition = undefined));
    r.transition = { kind, done };
    return done;
  }

  async #promote(r: Resident): Promise<void> {
    await Promise.resolve(); // let #startTransition record the transition first
    const from = r.tier;
    const startedAtMs = performance.now();
    const dir = this.#parts.host.dirOf(r.row.id);
    if (from === "cold") {
      const uploads = this.#parts.uploads;
      if (uploads === undefined || r.snapshotId === undefined) {
        throw new ConflictError(
          `Cannot load collection "${r.row.name}": it is cold and no S3 bucket is configured`,
          { code: "cold_tier_unavailable" },
        );
      }
      await this.#parts.io.mkdir(joinPath(dir, "wal"));
      await uploads.download(r.row.id, dir, r.snapshotId);
    }
    const collection = await this.#parts.host.open(r.row);
    r.collection = collection;
    r.tier = "hot";
    r.snapshotId = undefined;
    this.promotionCount++;
    this.#moved(r, from, "hot", startedAtMs);
  }

  async #toWarm(r: Resident): Promise<void> {
    await Promise.resolve();
    const collection = r.collection;
    if (collection === undefined) return;
    const startedAtMs = performance.now();
    await this.#idle(r);
    const manifest = await this.#parts.host.snapshot(collection, "demotion");
    await collection.close();
    r.collection = undefined;
    r.tier = "warm";
    r.snapshotId = manifest.snapshot_id;
    r.vectorCount = manifest.vector_count;
    this.#moved(r, "hot", "warm", startedAtMs);
  }

  async #toCold(r: Resident): Promise<void> {
    await Promise.resolve();
    const uploads = this.#parts.uploads;
    if (uploads === undefined || r.snapshotId === undefined) return;
    const startedAtMs = performance.now();
    const dir = this.#parts.host.dirOf(r.row.id);
    // Verified in S3 first; on any failure the collection stays warm, nothing deleted.
    await uploads.ensureUploaded(r.row.id, dir, r.snapshotId);
    r.tier = "cold";
    this.#persist(r, true); // the row says cold before a single local file goes
    await removeTree(this.#parts.io, dir);
    this.#moved(r, "warm", "cold", startedAtMs);
  }

  #moved(r: Resident, from: TierName, to: TierName, startedAtMs: number): void {
    r.dirty = true;
    this.#persist(r);
    this.#parts.observer?.onTransition(from, to);
    this.#parts.observer?.onTier(r.row.name, to);
    this.#parts.logger.info("collection changed tier", {
      collection: r.row.name,
      from,
      to,
      ms: Math.round(performance.now() - startedAtMs),
    });
  }

  #idle(r: Resident): Promise<void> {
    if (r.leases === 0) return Promise.resolve();
    return new Promise((resolve) => r.idleWaiters.push(resolve));
  }

  #persist(r: Resident, force = false): void {
    if (r.removed || (!r.dirty && !force)) return;
    r.dirty = false;
    this.#parts.table.put({
      collectionId: r.row.id,
      tier: r.tier,
      pinned: r.pinned,
      lastAccessedAtMs: r.lastAccessedAtMs,
      accessCount: r.accessCount,
      snapshotId: r.tier === "hot" ? undefined : r.snapshotId,
      vectorCount: r.collection?.vectorCount ?? r.vectorCount,
    });
  }

  #resident(row: CollectionRow, stored: TierRow | undefined, tier: TierName): Resident {
    return {
      row,
      tier,
      collection: undefined,
      pinned: stored?.pinned ?? false,
      lastAccessedAtMs: stored?.lastAccessedAtMs ?? this.#now(),
      accessCount: stored?.accessCount ?? 0,
      snapshotId: stored?.snapshotId,
      vectorCount: stored?.vectorCount ?? 0,
      leases: 0,
      idleWaiters: [],
      transition: undefined,
      dirty: stored === undefined,
      removed: false,
    };
  }

  #get(id: string): Resident {
    const r = this.#residents.get(id);
    if (r === undefined) {
      throw new NotFoundError(`Cannot find collection ${JSON.stringify(id)}: no such id`, {
        code: "collection_not_found",
      });
    }
    return r;
  }
}

function notFound(row: CollectionRow): NotFoundError {
  return new NotFoundError(`Cannot use collection "${row.name}": it was deleted`, {
    code: "collection_not_found",
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
