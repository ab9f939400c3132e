/**
 * Options of the WAL writer, their defaults and bounds. The relationships
 * between the limits are checked once, when a writer opens.
 *
 * @module
 */

import type { RecordHandler } from "./wal_recovery.ts";
import type { SyncMode } from "./sync_mode.ts";

/**
 * Receives WAL timings; the metrics module plugs in here
 * (`akidb_wal_append_duration_seconds`, `akidb_wal_fsync_duration_seconds`).
 * Callbacks must not throw: a throwing observer is a bug and surfaces as an uncaught error.
 */
export interface WalObserver {
  /**
   * One append became acknowledged.
   *
   * @param seconds From the `append()` call to its acknowledgement.
   * @param bytes The record's size on disk.
   */
  onAppend(seconds: number, bytes: number): void;
  /**
   * One `syncData()` of a segment finished.
   *
   * @param seconds Its duration.
   */
  onFsync(seconds: number): void;
}

/** Options of `WalWriter.open`; every field has a default. */
export interface WalWriterOptions {
  /** When appends resolve and when fsync runs. Default `{ kind: "always" }`. */
  readonly syncMode?: SyncMode;
  /** A segment is sealed and a new one started before it would exceed this. Default 64 MiB. */
  readonly segmentSizeBytes?: number;
  /** Bytes of admitted, not yet acknowledged records; beyond, `append` waits. Default 64 MiB. */
  readonly queueBytesMax?: number;
  /** Most bytes one group commit writes. Default 4 MiB. */
  readonly groupBytesMax?: number;
  /** Most records one group commit writes. Default 16384. */
  readonly groupRecordsMax?: number;
  /** Most `append` calls waiting for queue space; beyond, `CapacityError`. Default 65536. */
  readonly appendersWaitingMax?: number;
  /** LSN of the first record when the directory holds no segment yet. Default 1. */
  readonly firstLsn?: number;
  /** Timing hooks for metrics. */
  readonly observer?: WalObserver;
  /** With `onRecord`: hand over the records after this LSN while opening (the snapshot's LSN). */
  readonly replayAfterLsn?: number;
  /** Receives the records after `replayAfterLsn` while opening. */
  readonly onRecord?: RecordHandler;
}

/** {@link WalWriterOptions} with every default applied and every bound checked. */
export interface ResolvedWalOptions {
  readonly syncMode: SyncMode;
  readonly segmentSizeBytes: number;
  readonly queueBytesMax: number;
  readonly groupBytesMax: number;
  readonly groupRecordsMax: number;
  readonly appendersWaitingMax: number;
  readonly firstLsn: number;
  readonly observer: WalObserver | undefined;
}

const MIB = 1024 * 1024;

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot open WAL: ${name} is ${value}, expected an integer in ${min}..${max}`,
    );
  }
  return value;
}

/**
 * Apply defaults and check bounds and relationships.
 *
 * @param options What the caller gave.
 * @returns The complete options.
 * @throws {RangeError} When a value is out of bounds.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * assertEquals(resolveWalOptions({}).segmentSizeBytes, 64 * 1024 * 1024);
 * ```
 */
export function resolveWalOptions(options: WalWriterOptions): ResolvedWalOptions {
  const groupBytesMax = checkRange(
    "groupBytesMax",
    options.groupBytesMax ?? 4 * MIB,
    1024,
    256 * MIB,
  );
  const resolved: ResolvedWalOptions = {
    syncMode: options.syncMode ?? { kind: "always" },
    segmentSizeBytes: checkRange(
      "segmentSizeBytes",
      options.segmentSizeBytes ?? 64 * MIB,
      1024,
      1024 * MIB,
    ),
    queueBytesMax: checkRange(
      "queueBytesMax",
      options.queueBytesMax ?? 64 * MIB,
      groupBytesMax,
      4096 * MIB,
    ),
    groupBytesMax,
    groupRecordsMax: checkRange("groupRecordsMax", options.groupRecordsMax ?? 16384, 1, 1_000_000),
    appendersWaitingMax: checkRange(
      "appendersWaitingMax",
      options.appendersWaitingMax ?? 65536,
      1,
      10_000_000,
    ),
    firstLsn: checkRange("firstLsn", options.firstLsn ?? 1, 1, Number.MAX_SAFE_INTEGER),
    observer: options.observer,
  };
  return resolved;
}
