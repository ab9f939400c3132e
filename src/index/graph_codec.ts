/**
 * An index split for snapshots: the graph (`graph.bin`) apart from the live
 * vectors (which a snapshot stores in Parquet, one row per live point), so the
 * vectors are written once and a restore rebuilds nothing.
 *
 * `graph.bin` (little-endian): `"AKGRF001"` · u32 header length · header JSON
 * (parameters and per-segment counters) · per segment: each slot's record
 * without its vector (meta, upper-link offset, level-0 links, in-degree) ·
 * the vectors of its tombstones (navigation still needs them; they have no
 * row) · the used upper-link pool. Rows follow the live slots segment by
 * segment, slot by slot — the order of {@linkcode VectorIndex.entries}.
 *
 * @module
 */

import { CorruptionError } from "../errors.ts";
import type { SegmentState } from "../kernel/mod.ts";
import type { ExportedSegment, StoredIndex, StoredSegment } from "./index_codec.ts";
import type { PointId } from "./point_id.ts";
import type { IndexParams } from "./vector_index.ts";
import { ByteReader, concatBytes, u32Bytes } from "./_bytes.ts";

const MAGIC = "AKGRF001";
const FORMAT_VERSION = 1;
const DELETED_FLAG = 0x100;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The live points a graph expects, in row order. */
export interface GraphRows {
  readonly count: number;
  /** Id of row `row`. */
  id(row: number): PointId;
  /** Vector of row `row` (`dimension` floats, as the index stored it). */
  vector(row: number): Float32Array;
}

type SegmentCounters = Omit<SegmentState, "records" | "pool"> & {
  liveCount: number;
  poolBytes: number;
};

/** Bytes of a stored vector inside a record: the dimension padded to 4 floats. */
function vectorBytesOf(dimension: number): number {
  return Math.ceil(dimension / 4) * 16;
}

/** Whether the little-endian u32 meta word at `at` has {@linkcode DELETED_FLAG} set. */
function isDeleted(records: Uint8Array, at: number): boolean {
  return ((records[at + 1]! << 8) & DELETED_FLAG) !== 0;
}

/**
 * Encodes the graph of an index (its live vectors go elsewhere, in row order).
 *
 * @param params the index's parameters
 * @param segments its segments, as `VectorIndex` exports them
 * @param recordBytes bytes of one record in these segments
 * @returns the `graph.bin` bytes
 */
export function encodeGraph(
  params: IndexParams,
  segments: readonly ExportedSegment[],
  recordBytes: number,
): Uint8Array {
  const vectorBytes = vectorBytesOf(params.dimension);
  const linkBytes = recordBytes - vectorBytes;
  const parts: Uint8Array[] = [];
  const counters: SegmentCounters[] = segments.map(({ state }) => {
    const { records, pool, ...rest } = state;
    const links = new Uint8Array(state.count * linkBytes);
    const tombstones: Uint8Array[] = [];
    let slot = 0;
    for (const run of records) {
      for (let record = 0; record < run.byteLength; record += recordBytes, slot++) {
        links.set(run.subarray(record + vectorBytes, record + recordBytes), slot * linkBytes);
        if (isDeleted(run, record + vectorBytes)) {
          tombstones.push(run.subarray(record, record + vectorBytes));
        }
      }
    }
    const poolBytes = pool.reduce((sum, run) => sum + run.byteLength, 0);
    parts.push(links, ...tombstones, ...pool);
    return { ...rest, liveCount: state.count - state.deletedCount, poolBytes };
  });
  const header = encoder.encode(
    JSON.stringify({ format: FORMAT_VERSION, params, recordBytes, segments: counters }),
  );
  return concatBytes([encoder.encode(MAGIC), u32Bytes(header.byteLength), header, ...parts]);
}

/**
 * Decodes a graph and joins it with its rows into a loadable index.
 *
 * @param graph the `graph.bin` bytes
 * @param rows the live points, in row order
 * @returns what `VectorIndex.restore` takes
 * @throws CorruptionError when the graph is damaged or does not match the rows
 */
export function decodeGraph(graph: Uint8Array, rows: GraphRows): StoredIndex {
  const reader = new ByteReader(graph, "graph");
  if (decoder.decode(reader.take(MAGIC.length)) !== MAGIC) {
    throw new CorruptionError("Cannot load graph: bad magic, not an AkiDB graph");
  }
  const header = parseHeader(decoder.decode(reader.take(reader.u32())));
  const liveTotal = header.segments.reduce((sum, segment) => sum + segment.liveCount, 0);
  if (liveTotal !== rows.count) {
    throw new CorruptionError(
      `Cannot load graph: it has ${liveTotal} live points, rows ${rows.count}`,
    );
  }
  const vectorBytes = vectorBytesOf(header.params.dimension);
  const linkBytes = header.recordBytes - vectorBytes;
  let row = 0;
  const segments = header.segments.map((counters): StoredSegment => {
    const { liveCount, poolBytes, ...rest } = counters;
    const links = reader.take(rest.count * linkBytes);
    const tombstones = reader.take(rest.deletedCount * vectorBytes);
    const pool = reader.take(poolBytes);
    const firstRow = row;
    const ids = assignRows(links, linkBytes, liveCount, rest.deletedCount, firstRow, rows);
    row += liveCount;
    const writeRecords = (target: Uint8Array) => {
      let live = firstRow;
      let tombstone = 0;
      for (let slot = 0; slot < rest.count; slot++) {
        const record = slot * header.recordBytes;
        const linkPart = links.subarray(slot * linkBytes, (slot + 1) * linkBytes);
        target.set(linkPart, record + vectorBytes);
        if (ids[slot] === undefined) {
          target.set(
            tombstones.subarray(tombstone * vectorBytes, ++tombstone * vectorBytes),
            record,
          );
        } else {
          const vector = rows.vector(live++);
          checkRowVector(vector, header.params.dimension, live - 1);
          target.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), record);
          target.fill(0, record + vector.byteLength, record + vectorBytes);
        }
      }
    };
    return { image: { ...rest, pool, writeRecords }, ids };
  });
  reader.expectEnd();
  return { params: header.params, segments };
}

/** Ids of a segment's slots from its tombstone flags and the rows; checks the counts. */
function assignRows(
  links: Uint8Array,
  linkBytes: number,
  liveCount: number,
  deletedCount: number,
  firstRow: number,
  rows: GraphRows,
): (PointId | undefined)[] {
  const count = links.byteLength / linkBytes;
  const ids: (PointId | undefined)[] = new Array(count);
  let live = 0;
  for (let slot = 0; slot < count; slot++) {
    if (!isDeleted(links, slot * linkBytes)) ids[slot] = rows.id(firstRow + live++);
  }
  if (live !== liveCount || count - live !== deletedCount) {
    throw new CorruptionError("Cannot load graph: tombstone flags disagree with the counters");
  }
  return ids;
}

function checkRowVector(vector: Float32Array, dimension: number, row: number): void {
  if (vector.length !== dimension) {
    throw new CorruptionError(
      `Cannot load graph: row ${row} has ${vector.length} floats, expected ${dimension}`,
    );
  }
}

function parseHeader(
  text: string,
): { params: IndexParams; recordBytes: number; segments: SegmentCounters[] } {
  let header: {
    format?: unknown;
    params?: IndexParams;
    recordBytes?: number;
    segments?: SegmentCounters[];
  };
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new CorruptionError("Cannot load graph: header is not JSON", { cause: error });
  }
  const { format, params, recordBytes, segments } = header;
  if (
    format !== FORMAT_VERSION || !params || !Number.isInteger(recordBytes) ||
    !Array.isArray(segments)
  ) {
    throw new CorruptionError(`Cannot load graph: unsupported header format ${format}`);
  }
  if (recordBytes! <= vectorBytesOf(params.dimension)) {
    throw new CorruptionError(`Cannot load graph: record of ${recordBytes} bytes holds no links`);
  }
  return { params, recordBytes: recordBytes!, segments };
}
