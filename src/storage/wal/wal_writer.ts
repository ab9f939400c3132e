/**
 * The per-collection write-ahead log: recovery on open, group commit
 * (concurrent appends share ONE buffer, ONE write and ONE `syncData()`),
 * segment rotation by size, replay, and checkpoint deletion of old segments.
 *
 * @module
 */

import { ConflictError, CorruptionError } from "../../errors.ts";
import { type FileIO, parentPath } from "../file_io.ts";
import { AppendQueue, type PendingAppend } from "./append_queue.ts";
import { encodePayload, type WalEntry } from "./payload_codec.ts";
import type { RecordType } from "./record_type.ts";
import { encodeRecordInto, RECORD_BYTES_MAX, recordByteLength } from "./record_codec.ts";
import { listSegments } from "./segment_name.ts";
import { type Segment, SegmentSet } from "./segment_set.ts";
import {
  type ResolvedWalOptions,
  resolveWalOptions,
  type WalWriterOptions,
} from "./wal_options.ts";
import { type RecordHandler, scanSegments, type TruncatedTail } from "./wal_recovery.ts";

/** A caller of `sync()` waiting until `targetLsn` is durable. */
interface SyncRequest {
  readonly targetLsn: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** What the writer found when it opened. */
export interface WalOpenReport {
  /** The tail recovery cut off, if any. */
  readonly truncated: TruncatedTail | undefined;
  /** How many records went to `onRecord`. */
  readonly replayedCount: number;
}

/**
 * The write-ahead log of one collection.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * import { MemoryFileIO } from "../memory_file_io.ts";
 * import { RecordType } from "./record_type.ts";
 * const io = new MemoryFileIO({ seed: 1 });
 * const wal = await WalWriter.open(io, "/c1/wal");
 * const vector = new Float32Array([0.5, 1]);
 * const lsns = await Promise.all([
 *   wal.append({ type: RecordType.Upsert, points: [{ id: "a", vector }] }),
 *   wal.append({ type: RecordType.Delete, ids: [7] }),
 * ]);
 * assertEquals(lsns, [1, 2]);
 * await wal.close();
 * const seen: number[] = [];
 * const again = await WalWriter.open(io, "/c1/wal", {
 *   replayAfterLsn: 0,
 *   onRecord: (record) => void seen.push(record.lsn),
 * });
 * assertEquals(seen, [1, 2]);
 * await again.close();
 * ```
 */
export class WalWriter {
  /** The WAL directory. */
  readonly dir: string;
  /** What opening found: a cut tail, the replayed count. */
  readonly openReport: WalOpenReport;
  readonly #io: FileIO;
  readonly #files: SegmentSet;
  readonly #options: ResolvedWalOptions;
  readonly #queue: AppendQueue;
  #nextLsn: number;
  #writtenLsn: number;
  #durableLsn: number;
  #groupBuffer = new Uint8Array(64 * 1024);
  #flushing = false;
  #syncDue = false;
  #syncRequests: SyncRequest[] = [];
  #lastSyncAtMs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #failure: unknown = undefined;
  #maintenance: Promise<unknown> = Promise.resolve();

  private constructor(
    io: FileIO,
    dir: string,
    options: ResolvedWalOptions,
    files: SegmentSet,
    nextLsn: number,
    openReport: WalOpenReport,
  ) {
    this.#io = io;
    this.dir = dir;
    this.#options = options;
    this.#queue = new AppendQueue(options);
    this.#files = files;
    this.#nextLsn = nextLsn;
    this.#writtenLsn = nextLsn - 1;
    this.#durableLsn = nextLsn - 1;
    this.openReport = openReport;
  }

  /**
   * Open (creating if needed) the WAL in `dir`: recover it by the decision table, cutting a torn
   * tail off the last segment, hand the records after `replayAfterLsn` to `onRecord`, and get
   * ready to append after the last valid record.
   *
   * @param io The file system.
   * @param dir The collection's WAL directory, e.g. `<data>/collections/<id>/wal`.
   * @param options Limits, sync mode, observer, replay.
   * @returns The open writer.
   * @throws {CorruptionError} On damage before the tail (the message names file and offset), or
   *   when the WAL does not cover every LSN after `replayAfterLsn`.
   * @throws {RangeError} On an option out of bounds.
   */
  static async open(io: FileIO, dir: string, options: WalWriterOptions = {}): Promise<WalWriter> {
    const resolved = resolveWalOptions(options);
    // Make the WAL directory's own entry durable, whoever created it.
    await io.mkdir(dir);
    await io.syncDir(parentPath(dir));
    let listed = await listSegments(io, dir);
    if (listed.length === 0) {
      await (await SegmentSet.create(io, dir, resolved.firstLsn)).close();
      listed = await listSegments(io, dir);
    }
    const scan = await scanSegments(io, listed, {
      repair: true,
      ...(options.onRecord === undefined ? {} : { onRecord: options.onRecord }),
      afterLsn: options.replayAfterLsn ?? Number.POSITIVE_INFINITY,
    });
    const afterLsn = options.replayAfterLsn;
    if (afterLsn !== undefined && afterLsn > scan.nextLsn - 1) {
      throw new CorruptionError(
        `Cannot replay WAL "${dir}" after LSN ${afterLsn}: it ends at LSN ${scan.nextLsn - 1}`,
      );
    }
    const segments = listed.map((segment, index) => ({
      ...segment,
      sizeBytes: scan.segmentSizesBytes[index] ?? 0,
    }));
    const files = await SegmentSet.adopt(io, dir, segments);
    const report = { truncated: scan.truncated, replayedCount: scan.replayedCount };
    return new WalWriter(io, dir, resolved, files, scan.nextLsn, report);
  }

  /** @returns The LSN the next append will get. */
  get nextLsn(): number {
    return this.#nextLsn;
  }

  /** @returns The highest LSN written to the file (durable or not). */
  get writtenLsn(): number {
    return this.#writtenLsn;
  }

  /** @returns The highest LSN known to be fsync'd. */
  get durableLsn(): number {
    return this.#durableLsn;
  }

  /** @returns Total bytes of all segments (for `akidb_wal_size_bytes`). */
  get sizeBytes(): number {
    return this.#files.sizeBytes;
  }

  /** @returns The segments, oldest first: path, first LSN, size. */
  get segments(): readonly Readonly<Segment>[] {
    return this.#files.list();
  }

  /**
   * Append one record. Concurrent appends are coalesced into one group commit; the promise
   * resolves with the record's LSN once its group is written and, in sync mode `always`, fsync'd.
   *
   * @param entry What to log.
   * @returns The record's LSN.
   * @throws {RangeError} / {TypeError} When the entry cannot be encoded (no LSN is consumed).
   * @throws {CapacityError} When too many appends wait for queue space, or the disk is full.
   * @throws {ConflictError} When the writer is closed.
   */
  append(entry: WalEntry): Promise<number> {
    // Not an async function: the fast path then costs no extra promise hops.
    const startedAtMs = performance.now();
    let payload: Uint8Array;
    let admission: Promise<void> | undefined;
    try {
      this.#checkUsable();
      payload = encodePayload(entry);
      const recordBytes = recordByteLength(payload.length);
      if (recordBytes > RECORD_BYTES_MAX) {
        throw new RangeError(
          `Cannot append to WAL: record of ${recordBytes} bytes exceeds ${RECORD_BYTES_MAX}`,
        );
      }
      admission = this.#queue.admit(recordBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    if (admission === undefined) return this.#enqueue(entry.type, payload, startedAtMs);
    return admission.then(() => {
      if (this.#closed && this.#failure === undefined) {
        this.#queue.release(recordByteLength(payload.length));
      }
      this.#checkUsable();
      return this.#enqueue(entry.type, payload, startedAtMs);
    });
  }

  /** Give an admitted record its LSN and queue it for the next group commit. */
  #enqueue(type: RecordType, payload: Uint8Array, startedAtMs: number): Promise<number> {
    const recordBytes = recordByteLength(payload.length);
    return new Promise<number>((resolve, reject) => {
      const lsn = this.#nextLsn;
      this.#nextLsn += 1;
      this.#queue.push({ lsn, type, payload, recordBytes, startedAtMs, resolve, reject });
      this.#kick();
    });
  }

  /**
   * Make every record appended before this call durable (useful in modes `interval` and `none`,
   * e.g. before a snapshot).
   *
   * @throws The I/O error that stopped the writer, if any.
   */
  sync(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const targetLsn = this.#nextLsn - 1;
    if (targetLsn <= this.#durableLsn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#syncRequests.push({ targetLsn, resolve, reject });
      this.#syncDue = true;
      this.#kick();
    });
  }

  /**
   * Re-read the WAL and hand the records after `afterLsn` to `onRecord`, in LSN order. Reads what
   * was written when the call started; do not run `deleteSegmentsBefore` at the same time.
   *
   * @param afterLsn Hand over records with a higher LSN (a snapshot's LSN; 0 for all).
   * @param onRecord Receives each record; may return a promise.
   * @returns How many records were handed over.
   * @throws {CorruptionError} On any damage, or when the WAL no longer holds `afterLsn + 1`.
   */
  async replay(afterLsn: number, onRecord: RecordHandler): Promise<number> {
    const segments = this.#files.list();
    const scan = await scanSegments(this.#io, segments, {
      afterLsn,
      onRecord,
      repair: false,
      lastSegmentBytesMax: segments[segments.length - 1]!.sizeBytes,
    });
    return scan.replayedCount;
  }

  /**
   * Checkpoint: delete, oldest first, every whole segment whose records all have an LSN below
   * `lsn` (after a snapshot at LSN S, pass S + 1). The active segment always stays. Each removal
   * is made durable (directory fsync) before the next, so a crash leaves a contiguous suffix.
   *
   * @param lsn The first LSN that must stay.
   * @returns How many segments were deleted.
   */
  deleteSegmentsBefore(lsn: number): Promise<number> {
    const result = this.#maintenance.then(() => this.#files.deleteBefore(lsn));
    this.#maintenance = result.catch(() => undefined);
    return result;
  }

  /**
   * Write and fsync everything appended so far, then release the files. Later appends fail.
   *
   * @throws The I/O error that stopped the writer, if any.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.sync();
      await this.#maintenance;
    } finally {
      this.#clearTimer();
      await this.#files.close();
    }
  }

  #checkUsable(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) {
      throw new ConflictError(`Cannot append to WAL "${this.dir}": writer is closed`);
    }
  }

  #kick(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => void this.#flushLoop());
  }

  /** The group-commit loop: one group at a time, then any due fsync; runs while there is work. */
  async #flushLoop(): Promise<void> {
    try {
      while (this.#failure === undefined && (this.#queue.length > 0 || this.#syncDue)) {
        if (this.#queue.length > 0) {
          const group = this.#queue.takeGroup(
            this.#options.groupBytesMax,
            this.#options.groupRecordsMax,
          );
          await this.#commitGroup(group);
        }
        if (this.#syncDue || this.#intervalSyncDue()) await this.#syncActive();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#flushing = false;
    }
  }

  async #commitGroup(group: PendingAppend[]): Promise<void> {
    let groupBytes = 0;
    for (const item of group) groupBytes += item.recordBytes;
    try {
      const active = this.#files.active;
      if (active.sizeBytes > 0 && active.sizeBytes + groupBytes > this.#options.segmentSizeBytes) {
        await this.#rotate(group[0]!.lsn);
      }
      const buffer = this.#bufferFor(groupBytes);
      let offset = 0;
      for (const item of group) {
        offset = encodeRecordInto(buffer, offset, item.lsn, item.type, item.payload);
      }
      await this.#files.append(buffer.subarray(0, groupBytes));
      this.#writtenLsn = group[group.length - 1]!.lsn;
      if (this.#options.syncMode.kind === "always") await this.#syncActive();
    } catch (error) {
      for (const item of group) item.reject(error);
      this.#queue.release(groupBytes);
      throw error;
    }
    this.#queue.release(groupBytes);
    const nowMs = performance.now();
    for (const item of group) item.resolve(item.lsn);
    this.#observeAppends(group, nowMs);
    if (this.#options.syncMode.kind === "interval") this.#armTimer();
  }

  #bufferFor(bytes: number): Uint8Array {
    if (this.#groupBuffer.length < bytes) {
      this.#groupBuffer = new Uint8Array(Math.max(bytes, this.#groupBuffer.length * 2));
    }
    return this.#groupBuffer;
  }

  /** Seal the active segment (fsync'd) and start `<firstLsn>.wal`, durable in the directory. */
  async #rotate(firstLsn: number): Promise<void> {
    await this.#syncActive();
    await this.#files.rotate(firstLsn);
  }

  /** fsync the active segment if it has un-synced records, then answer the `sync()` callers. */
  async #syncActive(): Promise<void> {
    this.#syncDue = false;
    if (this.#writtenLsn > this.#durableLsn) {
      const targetLsn = this.#writtenLsn;
      const startedAtMs = performance.now();
      await this.#files.syncActive();
      this.#lastSyncAtMs = performance.now();
      this.#durableLsn = targetLsn;
      this.#observe((observer) => observer.onFsync((this.#lastSyncAtMs - startedAtMs) / 1000));
    }
    const pending = this.#syncRequests;
    this.#syncRequests = [];
    for (const request of pending) {
      if (request.targetLsn <= this.#durableLsn) request.resolve();
      else this.#syncRequests.push(request);
    }
    if (this.#syncRequests.length > 0) this.#syncDue = true;
  }

  #intervalSyncDue(): boolean {
    const mode = this.#options.syncMode;
    return mode.kind === "interval" && this.#writtenLsn > this.#durableLsn &&
      performance.now() - this.#lastSyncAtMs >= mode.intervalMs;
  }

  /** In mode `interval`, make sure an fsync happens at most `intervalMs` after this write. */
  #armTimer(): void {
    const mode = this.#options.syncMode;
    if (mode.kind !== "interval" || this.#timer !== undefined || this.#closed) return;
    const delayMs = Math.max(0, this.#lastSyncAtMs + mode.intervalMs - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#writtenLsn > this.#durableLsn && this.#failure === undefined) {
        this.#syncDue = true;
        this.#kick();
      }
    }, delayMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stop the writer after an I/O error: fail everything queued and every later call. */
  #fail(error: unknown): void {
    this.#failure = error;
    this.#clearTimer();
    this.#queue.failAll(error);
    for (const request of this.#syncRequests) request.reject(error);
    this.#syncRequests = [];
  }

  #observeAppends(group: PendingAppend[], nowMs: number): void {
    this.#observe((observer) => {
      for (const item of group) {
        observer.onAppend((nowMs - item.startedAtMs) / 1000, item.recordBytes);
      }
    });
  }

  /** Call the observer; an observer that throws is a bug, reported as an uncaught error. */
  #observe(call: (observer: NonNullable<ResolvedWalOptions["observer"]>) => void): void {
    const observer = this.#options.observer;
    if (observer === undefined) return;
    try {
      call(observer);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
