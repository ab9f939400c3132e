/**
 * AkiDB's per-collection write-ahead log: a checksummed record codec, a
 * segment writer with group commit, and recovery by an explicit decision table.
 * Format and guarantees: `docs/formats/wal.md`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * import { MemoryFileIO } from "../memory_file_io.ts";
 * const wal = await WalWriter.open(new MemoryFileIO({ seed: 1 }), "/c/wal", {
 *   syncMode: parseSyncMode("always"),
 * });
 * const lsn = await wal.append({
 *   type: RecordType.Upsert,
 *   points: [{ id: 1, vector: new Float32Array([1, 2]), metadata: '{"k":1}' }],
 * });
 * assertEquals(lsn, 1);
 * await wal.close();
 * ```
 *
 * @module
 */

export { crc32c } from "./crc32c.ts";
export { isRecordType, RecordType, recordTypeName } from "./record_type.ts";
export {
  encodeRecord,
  encodeRecordInto,
  type FrameRead,
  readFrame,
  RECORD_BYTES_MAX,
  RECORD_HEADER_BYTES,
  recordByteLength,
} from "./record_codec.ts";
export {
  decodePayload,
  encodePayload,
  ID_BYTES_MAX,
  type PointId,
  type WalEntry,
  type WalPoint,
} from "./payload_codec.ts";
export {
  decideRecovery,
  type FrameFacts,
  RECOVERY_TABLE,
  RecoveryAction,
  type RecoveryRow,
} from "./recovery_decision.ts";
export {
  listSegments,
  parseSegmentFileName,
  segmentFileName,
  type SegmentInfo,
} from "./segment_name.ts";
export { parseSyncMode, type SyncMode } from "./sync_mode.ts";
export type { WalObserver, WalWriterOptions } from "./wal_options.ts";
export { type RecordHandler, type TruncatedTail, type WalRecord } from "./wal_recovery.ts";
export { type Segment } from "./segment_set.ts";
export { type WalOpenReport, WalWriter } from "./wal_writer.ts";
