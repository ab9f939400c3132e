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
import type { SegmentImage, SegmentState } from "../kernel/mod.ts";
import type { PointId } from "./point_id.ts";
import type { IndexParams } from "./vector_index.ts";
import { ByteReader, concatBytes, u32Bytes } from "./_bytes.ts";

const MAGIC = "AKIDX001";
const FORMAT_VERSION = 1;
const TAG_NONE = 0;
const TAG_STRING = 1;
const TAG_NUMBER = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** One segment as exported: its kernel state and the id of each slot. */
export interface ExportedSegment {
  readonly state: SegmentState;
  readonly ids: readonly (PointId | undefined)[];
}

/** One segment as decoded: an image to restore from and the id of each slot. */
export interface StoredSegment {
  readonly image: SegmentImage;
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
export function encodeIndex(params: IndexParams, segments: readonly ExportedSegment[]): Uint8Array {
  const idBlocks = segments.map((segment) => encodeIds(segment.ids));
  const headers: SegmentHeader[] = segments.map(({ state }, i) => {
    const { records, pool, ...counters } = state;
    return {
      ...counters,
      recordsBytes: totalBytes(records),
      poolBytes: totalBytes(pool),
      idsBytes: idBlocks[i]!.byteLength,
    };
  });
  const header = encoder.encode(
    JSON.stringify({ format: FORMAT_VERSION, params, segments: headers }),
  );
  const parts: Uint8Array[] = [encoder.encode(MAGIC), u32Bytes(header.byteLength), header];
  segments.forEach(({ state }, i) => parts.push(...state.records, ...state.pool, idBlocks[i]!));
  return concatBytes(parts);
}

/**
 * Decodes an index.
 *
 * @param bytes what {@linkcode encodeIndex} wrote
 * @returns parameters and segments
 * @throws CorruptionError when the bytes are not a whole, well-formed index
 */
export function decodeIndex(bytes: Uint8Array): StoredIndex {
  const reader = new ByteReader(bytes, "index");
  if (decoder.decode(reader.take(MAGIC.length)) !== MAGIC) {
    throw new CorruptionError("Cannot load index: bad magic, not an AkiDB index");
  }
  const header = parseHeader(decoder.decode(reader.take(reader.u32())));
  const segments = header.segments.map((segment): StoredSegment => {
    const { recordsBytes, poolBytes, idsBytes, ...counters } = segment;
    const records = reader.take(recordsBytes);
    const pool = reader.take(poolBytes);
    const ids = decodeIds(reader.take(idsBytes), counters.count);
    const writeRecords = (target: Uint8Array) => {
      if (target.byteLength !== records.byteLength) {
        throw new CorruptionError(
          `Cannot load index: records are ${records.byteLength} bytes, the segment needs ${target.byteLength}`,
        );
      }
      target.set(records);
    };
    return { image: { ...counters, pool, writeRecords }, ids };
  });
  reader.expectEnd();
  return { params: header.params, segments };
}

function totalBytes(runs: readonly Uint8Array[]): number {
  return runs.reduce((sum, run) => sum + run.byteLength, 0);
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

function encodeIds(ids: readonly (PointId | undefined)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
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
  }
  return concatBytes(chunks);
}

function decodeIds(bytes: Uint8Array, count: number): (PointId | undefined)[] {
  const reader = new ByteReader(bytes, "index ids");
  const ids: (PointId | undefined)[] = new Array(count);
  for (let slot = 0; slot < count; slot++) {
    const tag = reader.u8();
    if (tag === TAG_NONE) ids[slot] = undefined;
    else if (tag === TAG_STRING) ids[slot] = decoder.decode(reader.take(reader.u16()));
    else if (tag === TAG_NUMBER) ids[slot] = reader.f64();
    else throw new CorruptionError(`Cannot load index: slot ${slot} has id tag ${tag}`);
  }
  reader.expectEnd();
  return ids;
}
