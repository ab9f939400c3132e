/**
 * Bytes of a whole index — parameters, each segment's records (vectors,
 * meta, level-0 links), upper links and slot ids — so an index is restored
 * without rebuilding its graph.
 *
 * Layout (little-endian): `"AKIDX001"` · u32 header length · header JSON ·
 * per segment: records · pool · ids. Ids are, per slot, a tag byte
 * (0 tombstone, 1 string, 2 integer) then u16 length + UTF-8 bytes, or f64.
 * Integrity of the file as a whole is the snapshot's job (its manifest holds
 * a checksum); this codec checks every length it reads.
 *
 * @module
 */

import { CorruptionError } from "../errors.ts";
import type { SegmentState } from "../kernel/mod.ts";
import type { PointId } from "./point_id.ts";
import type { IndexParams } from "./vector_index.ts";

const MAGIC = "AKIDX001";
const FORMAT_VERSION = 1;
const TAG_NONE = 0;
const TAG_STRING = 1;
const TAG_NUMBER = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** One segment as stored: its kernel state and the id of each slot. */
export interface StoredSegment {
  readonly state: SegmentState;
  readonly ids: readonly (PointId | undefined)[];
}

/** A decoded index. */
export interface StoredIndex {
  readonly params: IndexParams;
  readonly segments: StoredSegment[];
}

type SegmentHeader = Omit<SegmentState, "records" | "pool"> & {
  recordsBytes: number;
  poolBytes: number;
  idsBytes: number;
};

/**
 * Encodes an index.
 *
 * @param params the index's parameters
 * @param segments its segments
 * @returns the bytes
 */
export function encodeIndex(params: IndexParams, segments: readonly StoredSegment[]): Uint8Array {
  const idBlocks = segments.map((segment) => encodeIds(segment.ids));
  const headers: SegmentHeader[] = segments.map(({ state }, i) => {
    const { records, pool, ...counters } = state;
    return {
      ...counters,
      recordsBytes: records.byteLength,
      poolBytes: pool.byteLength,
      idsBytes: idBlocks[i]!.byteLength,
    };
  });
  const header = encoder.encode(
    JSON.stringify({ format: FORMAT_VERSION, params, segments: headers }),
  );
  const parts: Uint8Array[] = [encoder.encode(MAGIC), u32(header.byteLength), header];
  segments.forEach(({ state }, i) => parts.push(state.records, state.pool, idBlocks[i]!));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * Decodes an index.
 *
 * @param bytes what {@linkcode encodeIndex} wrote
 * @returns parameters and segments
 * @throws CorruptionError when the bytes are not a whole, well-formed index
 */
export function decodeIndex(bytes: Uint8Array): StoredIndex {
  const reader = new Reader(bytes);
  if (decoder.decode(reader.take(MAGIC.length)) !== MAGIC) {
    throw new CorruptionError("Cannot load index: bad magic, not an AkiDB index");
  }
  const header = parseHeader(decoder.decode(reader.take(reader.u32())));
  const segments = header.segments.map((segment): StoredSegment => {
    const { recordsBytes, poolBytes, idsBytes, ...counters } = segment;
    const records = reader.take(recordsBytes);
    const pool = reader.take(poolBytes);
    const ids = decodeIds(reader.take(idsBytes), counters.count);
    return { state: { ...counters, records, pool }, ids };
  });
  if (reader.offset !== bytes.byteLength) {
    throw new CorruptionError(
      `Cannot load index: ${bytes.byteLength - reader.offset} trailing bytes`,
    );
  }
  return { params: header.params, segments };
}

function parseHeader(text: string): { params: IndexParams; segments: SegmentHeader[] } {
  let header: { format?: unknown; params?: IndexParams; segments?: SegmentHeader[] };
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new CorruptionError("Cannot load index: header is not JSON", { cause: error });
  }
  if (header.format !== FORMAT_VERSION || !header.params || !Array.isArray(header.segments)) {
    throw new CorruptionError(`Cannot load index: unsupported header format ${header.format}`);
  }
  return { params: header.params, segments: header.segments };
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

function encodeIds(ids: readonly (PointId | undefined)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const id of ids) {
    let chunk: Uint8Array;
    if (id === undefined) {
      chunk = Uint8Array.of(TAG_NONE);
    } else if (typeof id === "string") {
      const text = encoder.encode(id);
      chunk = new Uint8Array(3 + text.byteLength);
      chunk[0] = TAG_STRING;
      new DataView(chunk.buffer).setUint16(1, text.byteLength, true);
      chunk.set(text, 3);
    } else {
      chunk = new Uint8Array(9);
      chunk[0] = TAG_NUMBER;
      new DataView(chunk.buffer).setFloat64(1, id, true);
    }
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function decodeIds(bytes: Uint8Array, count: number): (PointId | undefined)[] {
  const reader = new Reader(bytes);
  const ids: (PointId | undefined)[] = new Array(count);
  for (let slot = 0; slot < count; slot++) {
    const tag = reader.u8();
    if (tag === TAG_NONE) ids[slot] = undefined;
    else if (tag === TAG_STRING) ids[slot] = decoder.decode(reader.take(reader.u16()));
    else if (tag === TAG_NUMBER) ids[slot] = reader.f64();
    else throw new CorruptionError(`Cannot load index: slot ${slot} has id tag ${tag}`);
  }
  if (reader.offset !== bytes.byteLength) {
    throw new CorruptionError("Cannot load index: id block longer than its slots");
  }
  return ids;
}

class Reader {
  offset = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  take(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0 || this.offset + length > this.#bytes.byteLength) {
      throw new CorruptionError(
        `Cannot load index: needs ${length} bytes at offset ${this.offset}, has ${
          this.#bytes.byteLength - this.offset
        }`,
      );
    }
    const out = this.#bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u16(): number {
    const at = this.offset;
    this.take(2);
    return this.#view.getUint16(at, true);
  }

  u32(): number {
    const at = this.offset;
    this.take(4);
    return this.#view.getUint32(at, true);
  }

  f64(): number {
    const at = this.offset;
    this.take(8);
    return this.#view.getFloat64(at, true);
  }
}
