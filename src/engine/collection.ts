/**
 * One open collection: its live index (graph + exact tail), its metadata
 * store and its WAL, with the write path (validate the whole batch → one WAL
 * record → durable → apply to memory in LSN order → acknowledge) and the
 * search path (filter → allow-set → index search → scores).
 *
 * @module
 */

import { formatPointId, type PointId, scoreOf, validatePointId } from "../index/mod.ts";
import type { Kernel } from "../kernel/mod.ts";
import { LIMITS } from "../limits.ts";
import { type FileIO, joinPath } from "../storage/file_io.ts";
import {
  RecordType,
  type SyncMode,
  type WalObserver,
  type WalRecord,
  WalWriter,
} from "../storage/wal/mod.ts";
import type { CollectionRow } from "./catalog.ts";
import type { PointInput, PointRecord, SearchRequest, SearchResult } from "./engine_types.ts";
import { compileFilter } from "./filter.ts";
import { LiveIndex } from "./live_index.ts";
import { checkVector, prepareBatch } from "./point_validation.ts";

/** Metadata of one live point: the JSON text (as logged) and a parsed private copy. */
interface StoredMetadata {
  readonly json: string;
  readonly value: Readonly<Record<string, unknown>>;
}

/** How a collection's WAL is opened. */
export interface CollectionWalOptions {
  readonly syncMode: SyncMode;
  readonly segmentSizeBytes: number;
  readonly queueBytesMax: number;
  /** WAL timing hooks (metrics), shared by every collection. */
  readonly observer?: WalObserver | undefined;
}

const GROUP_BYTES_MAX = 4 * 1024 * 1024;
/** Recovery yields to the event loop after this much replay work, so `/health` stays live. */
const REPLAY_SLICE_MS = 20;

/** The directory of a collection: `<data_dir>/collections/<id>`. */
export function collectionDir(dataDir: string, id: string): string {
  return joinPath(dataDir, "collections", id);
}

/** An open, recovered collection. */
export class Collection {
  readonly row: CollectionRow;
  readonly #index: LiveIndex;
  /** Every live point has an entry; `undefined` when it has no metadata. */
  readonly #metadata = new Map<PointId, StoredMetadata | undefined>();
  #wal!: WalWriter;
  /** Durable records waiting to be applied in LSN order. */
  readonly #applyQueue = new Map<number, () => void>();
  #nextApplyLsn = 1;
  #replaySliceStartMs = performance.now();

  private constructor(kernel: Kernel, row: CollectionRow) {
    this.row = row;
    this.#index = new LiveIndex(kernel, {
      dimension: row.dimension,
      metric: row.metric,
      m: row.m,
      efConstruction: row.efConstruction,
      efSearch: row.efSearch,
    });
  }

  /**
   * Opens a collection: recovers its WAL (a torn tail is cut off) and replays
   * every record straight into the graph, then accepts writes.
   *
   * @param kernel the compiled kernel
   * @param io the file system
   * @param dataDir the data directory
   * @param row the catalog row
   * @param walOptions sync mode and sizes
   * @returns the open collection
   * @throws CorruptionError when the WAL is damaged before its tail
   */
  static async open(
    kernel: Kernel,
    io: FileIO,
    dataDir: string,
    row: CollectionRow,
    walOptions: CollectionWalOptions,
  ): Promise<Collection> {
    const collection = new Collection(kernel, row);
    collection.#wal = await WalWriter.open(io, joinPath(collectionDir(dataDir, row.id), "wal"), {
      syncMode: walOptions.syncMode,
      segmentSizeBytes: walOptions.segmentSizeBytes,
      queueBytesMax: walOptions.queueBytesMax,
      groupBytesMax: Math.min(GROUP_BYTES_MAX, walOptions.queueBytesMax),
      ...(walOptions.observer === undefined ? {} : { observer: walOptions.observer }),
      replayAfterLsn: 0,
      onRecord: (record) => collection.#replay(record),
    });
    collection.#nextApplyLsn = collection.#wal.nextLsn;
    return collection;
  }

  /** Exact number of live points. */
  get vectorCount(): number {
    return this.#metadata.size;
  }

  /** Highest LSN applied to memory: every acknowledged write up to it is searchable. */
  get appliedLsn(): number {
    return this.#nextApplyLsn - 1;
  }

  /** Points acknowledged but not yet linked into the graph. */
  get pendingIndexCount(): number {
    return this.#index.pendingCount;
  }

  /** Bytes of WASM memory held by the index. */
  get memoryBytes(): number {
    return this.#index.memoryBytes;
  }

  /** Bytes of WAL segments on disk. */
  get walSizeBytes(): number {
    return this.#wal.sizeBytes;
  }

  /**
   * Writes a batch: validated whole, logged as ONE record, applied once durable.
   *
   * @param points the batch (duplicate ids: the last wins)
   * @returns how many distinct points were written and the record's LSN
   * @throws TypeError / RangeError when any point is invalid (nothing is written)
   */
  async upsert(points: readonly PointInput[]): Promise<{ upserted: number; lsn: number }> {
    const batch = prepareBatch(points, this.row.dimension, this.row.metric);
    const lsn = await this.#wal.append({
      type: RecordType.Upsert,
      points: batch.map((point) =>
        point.metadataJson === undefined
          ? { id: point.id, vector: point.vector }
          : { id: point.id, vector: point.vector, metadata: point.metadataJson }
      ),
    });
    await this.#applyInOrder(lsn, () => {
      for (const point of batch) {
        this.#index.upsert(point.id, point.vector);
        this.#setMetadata(point.id, point.metadataJson, point.metadata);
      }
    });
    return { upserted: batch.length, lsn };
  }

  /**
   * Deletes a point; writes nothing when it does not exist.
   *
   * @param id the point's id
   * @returns whether it existed, and the LSN of the delete (or the applied LSN when absent)
   */
  async deletePoint(id: PointId): Promise<{ deleted: boolean; lsn: number }> {
    validatePointId(id, "delete");
    if (!this.#metadata.has(id)) return { deleted: false, lsn: this.appliedLsn };
    const lsn = await this.#wal.append({ type: RecordType.Delete, ids: [id] });
    const deleted = await this.#applyInOrder(lsn, () => this.#remove(id));
    return { deleted, lsn };
  }

  /**
   * A stored point.
   *
   * @param id the point's id
   * @returns the point (vector unit length under cosine), or undefined when absent
   */
  getPoint(id: PointId): PointRecord | undefined {
    validatePointId(id, "get");
    if (!this.#metadata.has(id)) return undefined;
    const vector = this.#index.vector(id);
    if (vector === undefined) throw new Error(`Lost vector of point ${formatPointId(id)}`);
    return { id, vector, metadata: this.#metadata.get(id)?.value };
  }

  /**
   * Searches; a filtered search returns k results whenever k points match.
   *
   * @param request query, k, efSearch, filter, what to include
   * @returns results best first; metadata included unless `includeMetadata` is false
   * @throws TypeError / RangeError for a bad query, k, efSearch or filter
   */
  search(request: SearchRequest): SearchResult[] {
    // A zero query is valid even under cosine (it matches nothing), hence the norm-free "l2" check.
    checkVector(request.vector, this.row.dimension, "l2", "Cannot search");
    if (!Number.isInteger(request.k) || request.k < LIMITS.kMin || request.k > LIMITS.kMax) {
      throw new RangeError(
        `Cannot search: k is ${request.k}, expected ${LIMITS.kMin}..${LIMITS.kMax}`,
      );
    }
    const predicate = compileFilter(request.filter);
    let allow: Set<PointId> | undefined;
    if (predicate !== undefined) {
      allow = new Set();
      for (const [id, stored] of this.#metadata) if (predicate(stored?.value)) allow.add(id);
      if (allow.size === 0) return [];
    }
    const hits = this.#index.search(request.vector, request.k, {
      efSearch: request.efSearch,
      allow,
    });
    const includeMetadata = request.includeMetadata ?? true;
    return hits.map((hit) => ({
      id: hit.id,
      score: scoreOf(this.row.metric, hit.distance),
      ...(includeMetadata ? { metadata: this.#metadata.get(hit.id)?.value } : {}),
      ...(request.includeVector === true ? { vector: this.#index.vector(hit.id) } : {}),
    }));
  }

  /**
   * Checkpoint hook for the snapshot module: once a snapshot holding every
   * record up to `snapshotLsn` is durable, the WAL segments wholly before it
   * are deleted. Recovery must then start from that snapshot.
   *
   * @param snapshotLsn the LSN the snapshot covers
   * @returns how many segments were deleted
   */
  checkpoint(snapshotLsn: number): Promise<number> {
    return this.#wal.deleteSegmentsBefore(snapshotLsn + 1);
  }

  /** Waits until every acknowledged point is linked into the graph (tests, snapshots). */
  drainIndex(): Promise<void> {
    return this.#index.drain();
  }

  /** Stops background indexing, then fsyncs and closes the WAL. */
  async close(): Promise<void> {
    this.#index.stop();
    await this.#wal.close();
  }

  /** Applies durable records strictly in LSN order, whatever order their promises settle in. */
  #applyInOrder<T>(lsn: number, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#applyQueue.set(lsn, () => {
        try {
          resolve(apply());
        } catch (error) {
          reject(error);
        }
      });
      for (;;) {
        const next = this.#applyQueue.get(this.#nextApplyLsn);
        if (next === undefined) break;
        this.#applyQueue.delete(this.#nextApplyLsn);
        this.#nextApplyLsn += 1;
        next();
      }
    });
  }

  /** Applies one replayed record; yields to the event loop every `REPLAY_SLICE_MS` of work. */
  #replay(record: WalRecord): Promise<void> | void {
    if (record.type === RecordType.Upsert) {
      for (const point of record.points) {
        this.#index.upsertIndexed(point.id, point.vector);
        const json = point.metadata;
        this.#setMetadata(point.id, json, json === undefined ? undefined : JSON.parse(json));
      }
    } else if (record.type === RecordType.Delete) {
      for (const id of record.ids) this.#remove(id);
    }
    if (performance.now() - this.#replaySliceStartMs < REPLAY_SLICE_MS) return;
    return new Promise((resolve) =>
      setTimeout(() => {
        this.#replaySliceStartMs = performance.now();
        resolve();
      }, 0)
    );
  }

  #setMetadata(
    id: PointId,
    json: string | undefined,
    value: Readonly<Record<string, unknown>> | undefined,
  ): void {
    this.#metadata.set(id, json === undefined || value === undefined ? undefined : { json, value });
  }

  #remove(id: PointId): boolean {
    this.#index.delete(id);
    return this.#metadata.delete(id);
  }
}
