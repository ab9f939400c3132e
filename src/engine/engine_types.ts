/**
 * The engine's contract with the HTTP layer: collections as a service. The
 * API validates the shape of requests (JSON types, required fields) and turns
 * them into these typed calls; the engine validates values against the
 * collection (dimension, finite numbers, id sizes, metadata size, k/ef ranges)
 * and throws `RangeError`/`TypeError` or the domain errors of `src/errors.ts`,
 * which the API maps to statuses in one place.
 *
 * @module
 */

import type { Metric } from "../kernel/mod.ts";
import type { PointId } from "../index/mod.ts";
import type { SnapshotManifest } from "../storage/snapshot/mod.ts";

export type { SnapshotManifest };

/** What a restore did. */
export interface RestoreOutcome {
  /** The snapshot restored. */
  readonly restored: SnapshotManifest;
  /** The new snapshot that records the restore (its LSN is where the restore happened). */
  readonly checkpoint: SnapshotManifest;
}

/** HNSW parameters of a collection, as the API shows them. */
export interface HnswSettings {
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
}

/** Tier of a collection (only `hot` until tiering lands). */
export type Tier = "hot" | "warm" | "cold";

/** A collection as the API returns it (the API renders snake_case). */
export interface CollectionInfo {
  readonly collectionId: string;
  readonly name: string;
  readonly dimension: number;
  readonly metric: Metric;
  readonly hnsw: HnswSettings;
  /** Exact number of live points. */
  readonly vectorCount: number;
  readonly tier: Tier;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** What creating a collection takes. */
export interface CollectionSpec {
  readonly name: string;
  readonly dimension: number;
  readonly metric: Metric;
  readonly hnsw?: Partial<HnswSettings>;
}

/** A point to write. */
export interface PointInput {
  readonly id: PointId;
  readonly vector: Float32Array;
  /** A JSON object (≤ 64 KiB serialized), or undefined. */
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
}

/** A stored point. */
export interface PointRecord {
  readonly id: PointId;
  readonly vector: Float32Array;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}

/** One filter condition (DESIGN.md): match a value, any of values, or a numeric range. */
export type FilterCondition =
  | { readonly key: string; readonly match: string | number | boolean }
  | {
    readonly key: string;
    readonly match: { readonly any: readonly (string | number | boolean)[] };
  }
  | {
    readonly key: string;
    readonly range: {
      readonly gt?: number;
      readonly gte?: number;
      readonly lt?: number;
      readonly lte?: number;
    };
  };

/** A search filter: every `must` holds and no `must_not` holds. */
export interface Filter {
  readonly must?: readonly FilterCondition[];
  readonly mustNot?: readonly FilterCondition[];
}

/** A search request. */
export interface SearchRequest {
  readonly vector: Float32Array;
  readonly k: number;
  readonly efSearch?: number | undefined;
  readonly filter?: Filter | undefined;
  readonly includeVector?: boolean;
  readonly includeMetadata?: boolean;
}

/** One search result; `score` follows the metric's convention (see `scoreOf`). */
export interface SearchResult {
  readonly id: PointId;
  readonly score: number;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  readonly vector?: Float32Array | undefined;
}

/** Why the engine is or is not ready. */
export interface Readiness {
  /** True once recovery has finished (even if some collections failed). */
  readonly recovered: boolean;
  /** Collections that refused to open (e.g. WAL corruption), with the reason. */
  readonly failedCollections: readonly { readonly name: string; readonly error: string }[];
}

/** Collections as a service. `c` is a collection's id or name everywhere. */
export interface Engine {
  readiness(): Readiness;
  createCollection(spec: CollectionSpec): Promise<CollectionInfo>;
  listCollections(): CollectionInfo[];
  getCollection(c: string): CollectionInfo;
  deleteCollection(c: string): Promise<void>;
  /** Validates the whole batch first; resolves after the WAL record is durable. */
  upsert(c: string, points: readonly PointInput[]): Promise<{ upserted: number; lsn: number }>;
  /** A stored point; a warm or cold collection is promoted first. */
  getPoint(c: string, id: PointId): Promise<PointRecord | undefined>;
  deletePoint(c: string, id: PointId): Promise<{ deleted: boolean; lsn: number }>;
  search(c: string, request: SearchRequest): Promise<SearchResult[]>;
  /** Stops background work, flushes and fsyncs every WAL, closes the catalog. */
  close(): Promise<void>;
  /** Takes a snapshot now; resolves with its manifest (optional: stand-ins may lack it). */
  createSnapshot?(c: string): Promise<SnapshotManifest>;
  /** The collection's snapshots, newest first. */
  listSnapshots?(c: string): Promise<SnapshotManifest[]>;
  /** Restores `"latest"` or a snapshot id into the running collection. */
  restoreSnapshot?(c: string, snapshotId: string): Promise<RestoreOutcome>;
  /** The collection's tier state (optional: stand-ins may lack tiering). */
  tierStatus?(c: string): TierStatus;
  /** Loads a warm or cold collection now. */
  promote?(c: string): Promise<TierStatus>;
  /** Moves a collection to warm or cold. */
  demote?(c: string, to: "warm" | "cold"): Promise<TierStatus>;
  /** Keeps a collection hot. */
  pin?(c: string): Promise<TierStatus>;
  /** Lets the tier rules move a collection again. */
  unpin?(c: string): Promise<TierStatus>;
  /** The object store's dead-letter queue and circuit breaker. */
  dlqStatus?(): DlqStatus;
  /** Replays the dead-letter queue. */
  retryDeadLetters?(): Promise<RetryAllReport>;
  /** Closes the circuit breaker by hand. */
  resetCircuitBreaker?(): { breakerState: number };
}

/** A collection's tier state (the API renders snake_case). */
export interface TierStatus {
  readonly tier: Tier;
  readonly pinned: boolean;
  /** ISO 8601. */
  readonly lastAccessedAt: string;
  readonly accessCount: number;
  readonly vectorCount: number;
  /** Index memory while hot, else 0. */
  readonly memoryBytes: number;
  /** While warm or cold: the snapshot holding the data. */
  readonly snapshotId: string | undefined;
}

/** One dead-lettered object-store write. */
export interface DlqEntryInfo {
  readonly id: number;
  readonly operation: string;
  readonly key: string;
  readonly localPath: string | undefined;
  readonly sizeBytes: number;
  readonly attempts: number;
  readonly lastError: string;
  readonly firstFailureAtMs: number;
  readonly lastFailureAtMs: number;
}

/** The dead-letter queue and the breaker (0 closed, 1 open, 2 half-open). */
export interface DlqStatus {
  readonly size: number;
  readonly entries: readonly DlqEntryInfo[];
  readonly breakerState: number;
}

/** What a DLQ replay did. */
export interface RetryAllReport {
  readonly succeeded: number;
  readonly failed: number;
  readonly remaining: number;
  /** Entries dropped because their snapshot is no longer on local disk. */
  readonly discarded: number;
  readonly breakerState: number;
}
