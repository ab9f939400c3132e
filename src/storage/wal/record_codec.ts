/**
 * The one framing codec of WAL records, shared by the writer and recovery.
 *
 * ```
 * offset  size  field
 *      0     4  length   u32 LE = 9 + payload bytes (the bytes after the crc field)
 *      4     4  crc32c   u32 LE over bytes [0, 4) ++ [8, 8 + length): all but itself
 *      8     8  lsn      u64 LE, 1-based, contiguous within a collection
 *     16     1  type     u8, a RecordType code
 *     17     n  payload  type-specific (payload_codec.ts)
 * ```
 * A record occupies `8 + length` bytes; records follow each other unpadded.
 *
 * @module
 */

import { crc32c } from "./crc32c.ts";
import type { RecordType } from "./record_type.ts";

/** Bytes of `length | crc32c | lsn | type`, before the payload. */
export const RECORD_HEADER_BYTES = 17;
/** Bytes of `length | crc32c`, not counted by `length`. */
const PREFIX_BYTES = 8;
/** Smallest valid `length`: an empty payload. */
export const RECORD_LENGTH_MIN = RECORD_HEADER_BYTES - PREFIX_BYTES;
/** Largest record in bytes (header included); a longer `length` field is corrupt. */
export const RECORD_BYTES_MAX = 64 * 1024 * 1024;

const TWO_POW_32 = 2 ** 32;

/**
 * Bytes a record with a payload of `payloadBytes` occupies on disk.
 *
 * @param payloadBytes The payload size.
 * @returns Header plus payload size.
 */
export function recordByteLength(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + payloadBytes;
}

/**
 * Write one framed record into `target` at `offset`, checksum included.
 *
 * @param target The buffer; it must have room for {@link recordByteLength} bytes.
 * @param offset Where the record starts.
 * @param lsn The record's LSN, a positive safe integer.
 * @param type The record type.
 * @param payload The encoded payload.
 * @returns The offset just past the record.
 * @throws {RangeError} When the record exceeds {@link RECORD_BYTES_MAX} or the LSN is invalid.
 */
export function encodeRecordInto(
  target: Uint8Array,
  offset: number,
  lsn: number,
  type: RecordType,
  payload: Uint8Array,
): number {
  const total = recordByteLength(payload.length);
  if (total > RECORD_BYTES_MAX) {
    throw new RangeError(`Cannot encode WAL record: ${total} bytes exceeds ${RECORD_BYTES_MAX}`);
  }
  if (!Number.isSafeInteger(lsn) || lsn < 1) {
    throw new RangeError(`Cannot encode WAL record: LSN ${lsn} is not a positive safe integer`);
  }
  const view = new DataView(target.buffer, target.byteOffset + offset, total);
  view.setUint32(0, total - PREFIX_BYTES, true);
  view.setUint32(8, lsn % TWO_POW_32, true);
  view.setUint32(12, Math.floor(lsn / TWO_POW_32), true);
  view.setUint8(16, type);
  target.set(payload, offset + RECORD_HEADER_BYTES);
  const crc = crc32c(target, crc32c(target, 0, offset, offset + 4), offset + 8, offset + total);
  view.setUint32(4, crc, true);
  return offset + total;
}

/**
 * Encode one framed record into a new buffer.
 *
 * @param lsn The record's LSN.
 * @param type The record type.
 * @param payload The encoded payload.
 * @returns The record bytes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * const bytes = encodeRecord(7, 2, new Uint8Array([1, 2, 3]));
 * const frame = readFrame(bytes, 0);
 * assertEquals(frame.kind, "ok");
 * if (frame.kind === "ok") assertEquals([frame.lsn, frame.type, frame.endOffset], [7, 2, 20]);
 * ```
 */
export function encodeRecord(lsn: number, type: RecordType, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(recordByteLength(payload.length));
  encodeRecordInto(bytes, 0, lsn, type, payload);
  return bytes;
}

/** What {@link readFrame} finds at an offset. */
export type FrameRead =
  /** No byte left: the segment ends cleanly here. */
  | { readonly kind: "end" }
  /** Fewer than {@link RECORD_HEADER_BYTES} bytes left. */
  | { readonly kind: "header_incomplete" }
  /** The length field is below the minimum or above the maximum. */
  | { readonly kind: "length_invalid"; readonly length: number }
  /** The length field points past the end of the data. */
  | { readonly kind: "body_incomplete"; readonly length: number }
  /** The bytes are all there but the checksum does not match. */
  | { readonly kind: "crc_mismatch"; readonly length: number }
  /** A record whose checksum matches; `type` is the raw byte, not yet checked. */
  | {
    readonly kind: "ok";
    readonly lsn: number;
    readonly type: number;
    readonly payload: Uint8Array;
    readonly endOffset: number;
  };

/**
 * Read and verify the record framed at `offset` of `bytes`.
 *
 * @param bytes A segment's content.
 * @param offset Where a record should start.
 * @returns What is there; see {@link FrameRead}.
 */
export function readFrame(bytes: Uint8Array, offset: number): FrameRead {
  const left = bytes.length - offset;
  if (left <= 0) return { kind: "end" };
  if (left < RECORD_HEADER_BYTES) return { kind: "header_incomplete" };
  const length = readU32(bytes, offset);
  if (length < RECORD_LENGTH_MIN || length + PREFIX_BYTES > RECORD_BYTES_MAX) {
    return { kind: "length_invalid", length };
  }
  const endOffset = offset + PREFIX_BYTES + length;
  if (endOffset > bytes.length) return { kind: "body_incomplete", length };
  const crc = crc32c(bytes, crc32c(bytes, 0, offset, offset + 4), offset + 8, endOffset);
  if (crc !== readU32(bytes, offset + 4)) return { kind: "crc_mismatch", length };
  return {
    kind: "ok",
    lsn: peekLsn(bytes, offset),
    type: bytes[offset + 16]!,
    payload: bytes.subarray(offset + RECORD_HEADER_BYTES, endOffset),
    endOffset,
  };
}

/** The u32 LE at `at` (no DataView per frame: recovery reads millions of them). */
function readU32(bytes: Uint8Array, at: number): number {
  const signed = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) |
    (bytes[at + 3]! << 24);
  return signed >>> 0;
}

/**
 * Read the LSN field at `offset` without any check (for the tail scan of recovery).
 *
 * @param bytes A segment's content with at least 16 bytes after `offset`.
 * @param offset Where a record would start.
 * @returns The LSN field's value.
 */
export function peekLsn(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset + 8) + readU32(bytes, offset + 12) * TWO_POW_32;
}
