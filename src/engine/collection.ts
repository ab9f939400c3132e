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
import {
  listSnapshotIds,
  pruneSnapshots,
  readManifest,
  removeTempSnapshots,
  type SnapshotInput,
  type SnapshotManifest,
  writeSnapshot,
  writeSnapshotFiles,
} from "../storage/snapshot/mod.ts";
import { CorruptionError, NotFoundError } from "../errors.ts";
import type { CollectionRow } from "./catalog.ts";
import type {
  PointInput,
  PointRecord,
  RestoreOutcome,
  SearchRequest,
  SearchResult,
} from "./engine_types.ts";
import { compileFilter } from "./filter.ts";
import { LiveIndex } from "./live_index.ts";
import { WriteGate } from "./write_gate.ts";
import { checkVector, prepareBatch } from "./point_validation.ts";
import {
  indexOptionsOf,
  loadLatestSnapshotState,
  loadSnapshotState,
  type RejectedSnapshot,
  type SnapshotState,
  type StoredMetadata,
} from "./snapshot_state.ts";

/** How a collection's WAL is opened. */
export interface CollectionWalOptions {
  readonly syncMode: SyncMode;
  readonly segmentSizeBytes: number;
  readonly queueBytesMax: number;
  /** WAL timing hooks (metrics), shared by every collection. */
  readonly observer?: WalObserver | undefined;
  /** Told about every snapshot recovery skipped because it failed verification. */
  readonly onSnapshotRejected?: ((rejected: RejectedSnapshot) => void) | undefined;
}

/** When a collection is due for an automatic snapshot (0 turns a trigger off). */
export interface SnapshotPolicy {
  readonly walBytesThreshold: number;
  readonly recordsThreshold: number;
  readonly intervalMs: number;
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
  readonly #kernel: Kernel;
  readonly #io: FileIO;
  /** `<data_dir>/collections/<id>`. */
  readonly #dir: string;
  #index: LiveIndex;
  /** Every live point has an entry; `undefined` when it has no metadata. */
  #metadata = new Map<PointId, StoredMetadata | undefined>();
  #wal!: WalWriter;
  /** The newest snapshot written or recovered from. */
  #lastSnapshot: SnapshotManifest | undefined;
  #walBytesAtSnapshot = 0;
  #lastSnapshotAtMs = performance.now();
  /** Snapshot and restore run one at a time, in call order. */
  #snapshotChain: Promise<unknown> = Promise.resolve();
  /** Writes in flight, held while a restore swaps the state. */
  readonly #writeGate = new WriteGate();
  #snapshotsQueued = 0;
  /** Durable records waiting to be applied in LSN order. */
  readonly #applyQueue = new Map<number, () => void>();
  #nextApplyLsn = 1;
  #replaySliceStartMs = performance.now();

  private constructor(kernel: Kernel, io: FileIO, dir: string, row: CollectionRow) {
    this.row = row;
    this.#kernel = kernel;
    this.#io = io;
    this.#dir = dir;
    this.#index = new LiveIndex(kernel, indexOptionsOf(row));
  }

  /**
   * Opens a collection: removes interrupted snapshot writes, loads the newest
   * snapshot that verifies (older ones when it does not; each failure goes to
   * `walOptions.onSnapshotRejected`), recovers the WAL (a torn tail is cut off)
   * and replays the records after the snapshot's LSN through the exact tail
   * (searchable at once; the graph catches up in the background, so a long
   * WAL does not delay readiness), then accepts writes.
   *
   * @param kernel the compiled kernel
   * @param io the file system
   * @param dataDir the data directory
   * @param row the catalog row
   * @param walOptions sync mode and sizes
   * @returns the open collection
   * @throws CorruptionError when the WAL is damaged before its tail, or does not reach back
   *   to the loaded snapshot (or to LSN 1 when no snapshot loads)
   */
  static async open(
    kernel: Kernel,
    io: FileIO,
    dataDir: string,
    row: CollectionRow,
    walOptions: CollectionWalOptions,
  ): Promise<Collection> {
    const dir = collectionDir(dataDir, row.id);
    const collection = new Collection(kernel, io, dir, row);
    await removeTempSnapshots(io, dir);
    const { state, rejected } = await loadLatestSnapshotState(
      kernel,
      io,
      dir,
      row,
      walOptions.onSnapshotRejected ?? (() => undefined),
    );
    if (state !== undefined) collection.#adopt(state);
    const snapshotLsn = state?.manifest.lsn ?? 0;
    try {
      collection.#wal = await WalWriter.open(io, joinPath(dir, "wal"), {
        syncMode: walOptions.syncMode,
        segmentSizeBytes: walOptions.segmentSizeBytes,
        queueBytesMax: walOptions.queueBytesMax,
        groupBytesMax: Math.min(GROUP_BYTES_MAX, walOptions.queueBytesMax),
        ...(walOptions.observer === undefined ? {} : { observer: walOptions.observer }),
        firstLsn: snapshotLsn + 1,
        replayAfterLsn: snapshotLsn,
        onRecord: (record) => collection.#replay(record),
      });
    } catch (error) {
      collection.#index.stop();
      if (!(error instanceof CorruptionError)) throw error;
      const from = state === undefined
        ? `no valid snapshot${rejected.length > 0 ? ` (${rejected.length} rejected)` : ""}`
        : `snapshot ${state.manifest.snapshot_id}`;
      throw new CorruptionError(
        `Cannot recover collection "${row.name}" from ${from}: ${error.message}`,
        { cause: error, code: "collection_unrecoverable" },
      );
    }
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

  /** Deleted or replaced points still in the graph until it is compacted. */
  get graphTombstones(): number {
    return this.#index.graphTombstones;
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
   * Writes a batch: validated whole, admitted once the index's exact tail has
   * room for it (backpressure: ingest waits while graph building is behind),
   * logged as ONE record, applied once durable.
   *
   * @param points the batch (duplicate ids: the last wins)
   * @returns how many distinct points were written and the record's LSN
   * @throws TypeError / RangeError when any point is invalid (nothing is written)
   * @throws CapacityError `index_backpressure` when the tail stays full too long (nothing is written)
   */
  async upsert(points: readonly PointInput[]): Promise<{ upserted: number; lsn: number }> {
    const batch = prepareBatch(points, this.row.dimension, this.row.metric);
    // Admitted before the write gate, so a restore never waits behind a write held here.
    const release = await this.#index.admit(batch.length);
    try {
      return await this.#writeGate.write(() => this.#upsertPrepared(batch));
    } finally {
      release();
    }
  }

  async #upsertPrepared(
    batch: ReturnType<typeof prepareBatch>,
  ): Promise<{ upserted: number; lsn: number }> {
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
    return await this.#writeGate.write(async () => {
      if (!this.#metadata.has(id)) return { deleted: false, lsn: this.appliedLsn };
      const lsn = await this.#wal.append({ type: RecordType.Delete, ids: [id] });
      const deleted = await this.#applyInOrder(lsn, () => this.#remove(id));
      return { deleted, lsn };
    });
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

  /** The newest snapshot written, restored or recovered from, if any. */
  get lastSnapshot(): SnapshotManifest | undefined {
    return this.#lastSnapshot;
  }

  /** Whether a snapshot or restore is running or queued. */
  get snapshotBusy(): boolean {
    return this.#snapshotsQueued > 0;
  }

  /**
   * Whether an automatic snapshot is due: something was written since the
   * last one, and a threshold (records, WAL bytes or time) is reached.
   *
   * @param policy the thresholds (0 = off)
   * @param nowMs `performance.now()`
   * @returns true when a snapshot should be taken
   */
  snapshotDue(policy: SnapshotPolicy, nowMs: number): boolean {
    const records = this.appliedLsn - (this.#lastSnapshot?.lsn ?? 0);
    if (records <= 0) return false;
    const walBytes = this.#wal.sizeBytes - this.#walBytesAtSnapshot;
    return (policy.recordsThreshold > 0 && records >= policy.recordsThreshold) ||
      (policy.walBytesThreshold > 0 && walBytes >= policy.walBytesThreshold) ||
      (policy.intervalMs > 0 && nowMs - this.#lastSnapshotAtMs >= policy.intervalMs);
  }

  /**
   * A point-in-time view at {@linkcode appliedLsn}, taken in one synchronous
   * step (no write can apply meanwhile): the graph's bytes, its live points,
   * the tail's points and the metadata texts.
   *
   * @returns what `writeSnapshot` takes
   */
  captureSnapshot(): SnapshotInput {
    const capture = this.#index.capture();
    return {
      collection: this.row,
      lsn: this.appliedLsn,
      graph: capture.graph,
      graphRows: capture.graphRows,
      rows: {
        ids: capture.ids,
        vectors: capture.vectors,
        metadata: capture.ids.map((id) => this.#metadata.get(id)?.json),
      },
    };
  }

  /**
   * Takes a snapshot: captures the state (writes pause only for that
   * synchronous step), writes the files, then deletes the WAL segments wholly
   * before its LSN and the snapshots beyond `retention`.
   *
   * @param retention snapshots to keep, ≥ 1
   * @returns the new snapshot's manifest
   * @throws CapacityError when the disk is full (nothing changes)
   */
  createSnapshot(retention: number): Promise<SnapshotManifest> {
    return this.#serialized(async () => {
      const manifest = await writeSnapshot(this.#io, this.#dir, this.captureSnapshot());
      await this.#afterSnapshot(manifest, retention);
      return manifest;
    });
  }

  /**
   * The snapshots on disk, newest first (those whose manifest cannot be read are left out).
   *
   * @returns their manifests
   */
  async listSnapshots(): Promise<SnapshotManifest[]> {
    const manifests: SnapshotManifest[] = [];
    for (const id of await listSnapshotIds(this.#io, this.#dir)) {
      try {
        manifests.push(await readManifest(this.#io, this.#dir, id, { collectionId: this.row.id }));
      } catch (error) {
        if (!(error instanceof CorruptionError || error instanceof NotFoundError)) throw error;
      }
    }
    return manifests;
  }

  /**
   * Replaces the collection's content with a snapshot's. The snapshot is
   * verified and loaded first, off to the side; on any failure the collection
   * keeps serving what it had. Then writes pause, the restored state is saved
   * as a new snapshot at the current LSN (so a restart keeps the restore), the
   * state is swapped in, writes resume, and the WAL is checkpointed.
   *
   * @param snapshotId `"latest"` or a snapshot id
   * @param retention snapshots to keep, ≥ 1
   * @returns the snapshot restored and the snapshot that records the restore
   * @throws NotFoundError when there is no such snapshot
   * @throws CorruptionError when it fails verification (nothing changes)
   */
  restoreSnapshot(snapshotId: string, retention: number): Promise<RestoreOutcome> {
    return this.#serialized(async () => {
      const id = snapshotId === "latest"
        ? (await listSnapshotIds(this.#io, this.#dir))[0]
        : snapshotId;
      if (id === undefined) {
        throw new NotFoundError(
          `Cannot restore collection "${this.row.name}": it has no snapshot`,
          { code: "snapshot_not_found" },
        );
      }
      const state = await loadSnapshotState(this.#kernel, this.#io, this.#dir, this.row, id);
      let checkpoint: SnapshotManifest;
      try {
        checkpoint = await this.#writeGate.exclusive(async () => {
          const saved = await writeSnapshotFiles(
            this.#io,
            this.#dir,
            {
              collection: this.row,
              lsn: this.appliedLsn,
              graph: state.data.graph,
              graphRows: state.manifest.graph_rows,
            },
            state.data.vectorsParquet,
            state.manifest.vector_count,
          );
          const previous = this.#index;
          this.#adopt(state);
          previous.stop();
          return saved;
        });
      } catch (error) {
        state.index.stop();
        throw error;
      }
      await this.#afterSnapshot(checkpoint, retention);
      return { restored: state.manifest, checkpoint };
    });
  }

  /** Waits until every acknowledged point is linked into the graph (tests, snapshots). */
  drainIndex(): Promise<void> {
    return this.#index.drain();
  }

  /** Waits until background index work is done: the graph caught up and no compaction running. */
  settleIndex(): Promise<void> {
    return this.#index.settle();
  }

  /** Stops background indexing, lets a running snapshot finish, then fsyncs and closes the WAL. */
  async close(): Promise<void> {
    await this.#snapshotChain;
    this.#index.stop();
    await this.#wal.close();
  }

  /** Swaps in a state loaded from a snapshot (at open, or during a restore with writes paused). */
  #adopt(state: SnapshotState): void {
    this.#index = state.index;
    this.#metadata = state.metadata;
    this.#lastSnapshot = state.manifest;
  }

  async #afterSnapshot(manifest: SnapshotManifest, retention: number): Promise<void> {
    this.#lastSnapshot = manifest;
    this.#lastSnapshotAtMs = performance.now();
    await this.checkpoint(manifest.lsn);
    this.#walBytesAtSnapshot = this.#wal.sizeBytes;
    await pruneSnapshots(this.#io, this.#dir, retention);
  }

  /** Runs snapshot work one at a time, in call order. */
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    this.#snapshotsQueued += 1;
    const result = this.#snapshotChain.then(work);
    const done = () => void (this.#snapshotsQueued -= 1);
    this.#snapshotChain = result.then(done, done);
    return result;
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
        this.#index.upsert(point.id, point.vector);
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
