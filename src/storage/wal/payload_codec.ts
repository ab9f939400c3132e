/**
 * The one codec of WAL record payloads, shared by the writer and recovery.
 * All integers little-endian; layouts in `docs/formats/wal.md`.
 *
 * ```
 * UPSERT      u32 point count (>= 1) | u32 dimension (>= 1) | point * count
 *   point     u8 flags | id | [u32 metadata bytes | metadata UTF-8 JSON] | f32 * dimension
 * DELETE      u32 id count (>= 1) | (u8 flags | id) * count
 *   id        flags bit 0 set: u64 integer id; clear: u16 byte length (1..256) | UTF-8 bytes
 *   flags     bit 0: integer id; bit 1: metadata present; other bits zero
 * CHECKPOINT  u64 LSN covered by a snapshot
 * ```
 *
 * @module
 */

import { CorruptionError } from "../../errors.ts";
import { RecordType, recordTypeName } from "./record_type.ts";

/** A point id: a UTF-8 string of 1..256 bytes, or a non-negative safe integer (stored as u64). */
export type PointId = string | number;

/** A point as the WAL stores it. */
export interface WalPoint {
  /** The point's id. */
  readonly id: PointId;
  /**
   * The vector; all points of one record share its length. A decoded vector is a copy, but may
   * share its `ArrayBuffer` with other decoded vectors: never transfer or detach that buffer.
   */
  readonly vector: Float32Array;
  /** Optional metadata as JSON text (the WAL stores it verbatim). */
  readonly metadata?: string;
}

/** What one WAL record says, before it gets an LSN. */
export type WalEntry =
  | { readonly type: RecordType.Upsert; readonly points: readonly WalPoint[] }
  | { readonly type: RecordType.Delete; readonly ids: readonly PointId[] }
  | { readonly type: RecordType.Checkpoint; readonly snapshotLsn: number };

/** Longest string id in UTF-8 bytes. */
export const ID_BYTES_MAX = 256;
const FLAG_INTEGER_ID = 1;
const FLAG_METADATA = 2;
const TWO_POW_32 = 2 ** 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("Cannot load the WAL payload codec: platform is not little-endian");
}

/** A growable little-endian byte writer. */
class ByteWriter {
  bytes: Uint8Array;
  view: DataView;
  length = 0;

  constructor(capacityBytes: number) {
    this.bytes = new Uint8Array(capacityBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  reserve(count: number): number {
    const needed = this.length + count;
    if (needed > this.bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length = needed;
    return at;
  }
  u8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }
  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }
  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }
  u64(value: number): void {
    const at = this.reserve(8);
    this.view.setUint32(at, value % TWO_POW_32, true);
    this.view.setUint32(at + 4, Math.floor(value / TWO_POW_32), true);
  }
  raw(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    this.bytes.set(bytes, at);
  }
  result(): Uint8Array {
    // Keep the buffer when the estimate was close; copy when it would waste a quarter or more.
    return this.length * 4 >= this.bytes.length * 3
      ? this.bytes.subarray(0, this.length)
      : this.bytes.slice(0, this.length);
  }
}

function writeId(writer: ByteWriter, id: PointId, flags: number): void {
  if (typeof id === "number") {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new RangeError(`Cannot encode point id ${id}: not a non-negative safe integer`);
    }
    writer.u8(flags | FLAG_INTEGER_ID);
    writer.u64(id);
    return;
  }
  if (typeof id !== "string") {
    throw new TypeError(`Cannot encode point id: expected a string or a number, got ${typeof id}`);
  }
  const bytes = encoder.encode(id);
  if (bytes.length < 1 || bytes.length > ID_BYTES_MAX) {
    throw new RangeError(`Cannot encode point id "${id}": ${bytes.length} bytes, expected 1..256`);
  }
  writer.u8(flags);
  writer.u16(bytes.length);
  writer.raw(bytes);
}

function writeUpsert(writer: ByteWriter, points: readonly WalPoint[]): void {
  const dimension = points[0]?.vector.length ?? 0;
  if (points.length === 0 || dimension === 0) {
    throw new RangeError("Cannot encode UPSERT: expected at least one point with a vector");
  }
  writer.u32(points.length);
  writer.u32(dimension);
  for (const point of points) {
    if (!(point.vector instanceof Float32Array) || point.vector.length !== dimension) {
      throw new RangeError(
        `Cannot encode point ${
          JSON.stringify(point.id)
        }: dimension is ${point.vector?.length}, expected ${dimension}`,
      );
    }
    const metadata = point.metadata;
    if (metadata !== undefined && typeof metadata !== "string") {
      throw new TypeError(
        `Cannot encode point ${JSON.stringify(point.id)}: metadata must be JSON text`,
      );
    }
    writeId(writer, point.id, metadata === undefined ? 0 : FLAG_METADATA);
    if (metadata !== undefined) {
      const bytes = encoder.encode(metadata);
      writer.u32(bytes.length);
      writer.raw(bytes);
    }
    const vector = point.vector;
    writer.raw(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
  }
}

/** A capacity guess that fits typical entries without growing (metadata and long ids may grow it). */
function estimateBytes(entry: WalEntry): number {
  if (entry.type !== RecordType.Upsert) return 64;
  const dimension = entry.points[0]?.vector.length ?? 0;
  return 8 + entry.points.length * (dimension * 4 + 48);
}

/**
 * Encode the payload of a WAL entry.
 *
 * @param entry The entry.
 * @returns The payload bytes.
 * @throws {RangeError} On an empty batch, a wrong dimension, an id out of range.
 * @throws {TypeError} On a value of the wrong type.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * import { RecordType } from "./record_type.ts";
 * const bytes = encodePayload({ type: RecordType.Delete, ids: ["a", 7] });
 * assertEquals(decodePayload(RecordType.Delete, bytes), { type: RecordType.Delete, ids: ["a", 7] });
 * ```
 */
export function encodePayload(entry: WalEntry): Uint8Array {
  const writer = new ByteWriter(estimateBytes(entry));
  switch (entry.type) {
    case RecordType.Upsert:
      writeUpsert(writer, entry.points);
      break;
    case RecordType.Delete:
      if (entry.ids.length === 0) throw new RangeError("Cannot encode DELETE: no id given");
      writer.u32(entry.ids.length);
      for (const id of entry.ids) writeId(writer, id, 0);
      break;
    case RecordType.Checkpoint:
      if (!Number.isSafeInteger(entry.snapshotLsn) || entry.snapshotLsn < 0) {
        throw new RangeError(`Cannot encode CHECKPOINT: LSN ${entry.snapshotLsn} is invalid`);
      }
      writer.u64(entry.snapshotLsn);
      break;
    default:
      throw new TypeError(
        `Cannot encode WAL entry: unknown type ${(entry as { type: unknown }).type}`,
      );
  }
  return writer.result();
}

/** Longest text decoded by the ASCII loop; longer text goes to `TextDecoder` (faster there). */
const ASCII_LOOP_BYTES_MAX = 32;

/** A bounds-checked little-endian reader that throws `CorruptionError`. */
class ByteReader {
  offset = 0;

  constructor(readonly bytes: Uint8Array, readonly type: RecordType) {}

  fail(reason: string): never {
    throw new CorruptionError(`Cannot decode ${recordTypeName(this.type)} payload: ${reason}`);
  }
  take(count: number): number {
    if (this.offset + count > this.bytes.length) {
      this.fail(
        `needs ${count} bytes at offset ${this.offset}, has ${this.bytes.length - this.offset}`,
      );
    }
    const at = this.offset;
    this.offset += count;
    return at;
  }
  u8(): number {
    return this.bytes[this.take(1)]!;
  }
  u16(): number {
    const at = this.take(2);
    return this.bytes[at]! | (this.bytes[at + 1]! << 8);
  }
  u32(): number {
    return this.#u32At(this.take(4));
  }
  u64(): number {
    const at = this.take(8);
    const high = this.#u32At(at + 4);
    if (high >= 2 ** 21) this.fail(`u64 at offset ${at} exceeds the safe integer range`);
    return this.#u32At(at) + high * TWO_POW_32;
  }
  text(count: number): string {
    const at = this.take(count);
    if (count <= ASCII_LOOP_BYTES_MAX) {
      const ascii = asciiText(this.bytes, at, at + count);
      if (ascii !== undefined) return ascii;
    }
    try {
      return decoder.decode(this.bytes.subarray(at, at + count));
    } catch (error) {
      throw new CorruptionError(
        `Cannot decode ${recordTypeName(this.type)} payload: invalid UTF-8 at offset ${at}`,
        { cause: error },
      );
    }
  }
  finish(): void {
    if (this.offset !== this.bytes.length) {
      this.fail(`${this.bytes.length - this.offset} trailing bytes`);
    }
  }
  #u32At(at: number): number {
    const bytes = this.bytes;
    const signed = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) |
      (bytes[at + 3]! << 24);
    return signed >>> 0;
  }
}

/**
 * Decode `bytes[start, end)` if every byte is ASCII (then it is valid UTF-8 and means the same
 * characters); `undefined` otherwise, for `TextDecoder` to decode or reject. Short ids and
 * metadata are the common case, and a `TextDecoder` call costs several times this loop there.
 */
function asciiText(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = "";
  for (let index = start; index < end; index++) {
    const byte = bytes[index]!;
    if (byte >= 0x80) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/** Bytes of each block decoded vectors are copied into. */
const VECTOR_BLOCK_BYTES = 64 * 1024;
/** A vector larger than this gets an `ArrayBuffer` of its own. */
const SHARED_VECTOR_BYTES_MAX = VECTOR_BLOCK_BYTES / 8;

/**
 * Copies of decoded vectors, carved from shared blocks: an `ArrayBuffer` per vector (what
 * `slice()` makes) costs a malloc and a backing-store registration each, more than all the
 * rest of decoding a one-point record. A block stays alive while any vector in it does, so
 * keeping one vector keeps at most {@link VECTOR_BLOCK_BYTES}.
 */
class VectorBlocks {
  #block = new Uint8Array(0);
  #usedBytes = 0;

  /** A new vector holding a copy of `dimension` floats at `bytes[at]`. */
  copy(bytes: Uint8Array, at: number, dimension: number): Float32Array {
    const size = dimension * 4;
    if (size > SHARED_VECTOR_BYTES_MAX) return new Float32Array(bytes.slice(at, at + size).buffer);
    if (this.#usedBytes + size > this.#block.length) {
      this.#block = new Uint8Array(VECTOR_BLOCK_BYTES);
      this.#usedBytes = 0;
    }
    const offset = this.#usedBytes;
    this.#block.set(bytes.subarray(at, at + size), offset);
    this.#usedBytes += size;
    return new Float32Array(this.#block.buffer, offset, dimension);
  }
}

const vectorBlocks = new VectorBlocks();

function readId(reader: ByteReader, flags: number): PointId {
  if (flags & FLAG_INTEGER_ID) return reader.u64();
  const length = reader.u16();
  if (length < 1 || length > ID_BYTES_MAX) reader.fail(`id length ${length} is outside 1..256`);
  return reader.text(length);
}

function readFlags(reader: ByteReader, allowedFlags: number): number {
  const flags = reader.u8();
  if ((flags & ~allowedFlags) !== 0) reader.fail(`unknown flags 0x${flags.toString(16)}`);
  return flags;
}

function readUpsert(reader: ByteReader): WalPoint[] {
  const count = reader.u32();
  const dimension = reader.u32();
  if (count === 0 || dimension === 0) reader.fail(`count ${count}, dimension ${dimension}`);
  const points: WalPoint[] = [];
  for (let index = 0; index < count; index++) {
    const flags = readFlags(reader, FLAG_INTEGER_ID | FLAG_METADATA);
    const id = readId(reader, flags);
    const metadata = flags & FLAG_METADATA ? reader.text(reader.u32()) : undefined;
    const vector = vectorBlocks.copy(reader.bytes, reader.take(dimension * 4), dimension);
    points.push(metadata === undefined ? { id, vector } : { id, vector, metadata });
  }
  return points;
}

function readDelete(reader: ByteReader): PointId[] {
  const count = reader.u32();
  if (count === 0) reader.fail("no id");
  const ids: PointId[] = [];
  for (let index = 0; index < count; index++) {
    ids.push(readId(reader, readFlags(reader, FLAG_INTEGER_ID)));
  }
  return ids;
}

/**
 * Decode a payload written by {@link encodePayload}. Decoded vectors are copies (never views of
 * `payload`), but several may share one `ArrayBuffer`: read them through their own view, never
 * transfer or detach their buffer.
 *
 * @param type The record's type.
 * @param payload The payload bytes.
 * @returns The entry.
 * @throws {CorruptionError} When the bytes do not follow the layout.
 */
export function decodePayload(type: RecordType, payload: Uint8Array): WalEntry {
  const reader = new ByteReader(payload, type);
  let entry: WalEntry;
  switch (type) {
    case RecordType.Upsert:
      entry = { type, points: readUpsert(reader) };
      break;
    case RecordType.Delete:
      entry = { type, ids: readDelete(reader) };
      break;
    case RecordType.Checkpoint:
      entry = { type, snapshotLsn: reader.u64() };
      break;
    default:
      throw new CorruptionError(`Cannot decode WAL payload: unknown record type ${type}`);
  }
  reader.finish();
  return entry;
}
