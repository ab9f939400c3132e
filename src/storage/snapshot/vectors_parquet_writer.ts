/**
 * A small Parquet writer for exactly the schema of `vectors.parquet` (see
 * `vectors_parquet.ts`): one row group, one PLAIN data page (v1) per column —
 * the vector column split into pages of ≤ 1 GiB — with `id`, `id_int` and
 * `metadata` compressed by ZSTD and the vector floats uncompressed, no
 * dictionaries, statistics for `id_int` only (null count, min, max). The floats
 * are not copied: the file comes back as parts, one of which is a view of the
 * caller's vectors, so the snapshot writer streams them from where they lie.
 * Each vector page's floats start at a file offset that is a multiple of 4, so
 * a reader can view them as a `Float32Array` without copying.
 *
 * @module
 */

import { zstdCompressSync } from "node:zlib";
import { concatBytes } from "../../bytes.ts";
import { ThriftWriter } from "./thrift_compact.ts";
import {
  arrowSchemaEntry,
  encodeBitLevels,
  Encoding,
  LAYOUT_KEY,
  LAYOUT_VERSION,
  LEAF_COLUMNS,
  PageType,
  PARQUET_MAGIC,
  pushOnesBitPacked,
  pushRleRun,
  SCHEMA,
} from "./_parquet_layout.ts";
import type { RowId, SnapshotRows } from "./vectors_parquet.ts";

/**
 * The vector page's definition levels end in a bit-packed run of this many
 * groups of 8 ones when that aligns its floats: `g` groups take `1 + g` bytes
 * instead of none (the RLE run before it may lose a byte of its length), so
 * trying 0…7 always finds an aligned layout once a page has > 56 floats.
 */
const ALIGNING_GROUPS_MAX = 7;

/** Largest data page of the vector column (Parquet page sizes are i32). */
const VECTOR_PAGE_BYTES_MAX = 2 ** 30;

const encoder = new TextEncoder();

/** A column chunk laid out at a file offset. */
interface Chunk {
  readonly parts: Uint8Array[];
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** Level entries (= rows, or rows × dimension for the vector leaf). */
  readonly numValues: number;
  readonly offset: number;
  readonly statistics?: (writer: ThriftWriter) => void;
}

/**
 * Encodes rows as a Parquet file, as parts to write in order. The vector
 * column comes first in the file (readers find chunks by their offsets), so a
 * writer can start writing the floats at once; the small columns are encoded
 * lazily, when their parts are asked for — while the floats are being written.
 *
 * @param rows the rows
 * @param dimension floats per vector
 * @param vectorPageBytesMax largest vector data page (tests make it small to get several)
 * @returns the file's bytes in parts (one of them views `rows.vectors`)
 * @throws RangeError when the columns disagree in length
 */
export function encodeVectorsParquetParts(
  rows: SnapshotRows,
  dimension: number,
  vectorPageBytesMax: number = VECTOR_PAGE_BYTES_MAX,
): Iterable<Uint8Array> {
  const count = rows.ids.length;
  if (rows.vectors.length !== count * dimension || rows.metadata.length !== count) {
    throw new RangeError(
      `Cannot encode snapshot rows: ${count} ids, ${rows.vectors.length} floats, ` +
        `${rows.metadata.length} metadata for dimension ${dimension}`,
    );
  }
  return fileParts(rows, dimension, vectorPageBytesMax);
}

function* fileParts(
  rows: SnapshotRows,
  dimension: number,
  vectorPageBytesMax: number,
): Generator<Uint8Array> {
  const count = rows.ids.length;
  yield PARQUET_MAGIC.slice();
  let offset = PARQUET_MAGIC.byteLength;
  // File order: vector, id, id_int, metadata; the footer lists them in schema order.
  const inFileOrder: Chunk[] = [];
  const encoders = count === 0 ? [] : [
    (at: number) => vectorChunk(rows.vectors, dimension, at, vectorPageBytesMax),
    (at: number) => idChunk(rows.ids, at),
    (at: number) => idIntChunk(rows.ids, at),
    (at: number) => textChunk(rows.metadata, at),
  ];
  for (const encode of encoders) {
    const chunk = encode(offset);
    inFileOrder.push(chunk);
    offset += chunk.compressedBytes;
    yield* chunk.parts;
  }
  const chunks = inFileOrder.length === 0 ? [] : [1, 2, 0, 3].map((i) => inFileOrder[i]!);
  const footer = fileMetadata(chunks, count, dimension);
  yield footer;
  const trailer = new Uint8Array(8);
  new DataView(trailer.buffer).setUint32(0, footer.byteLength, true);
  trailer.set(PARQUET_MAGIC, 4);
  yield trailer;
}

function pageHeader(uncompressedBytes: number, compressedBytes: number, numValues: number) {
  return new ThriftWriter()
    .i32(1, PageType.DATA_PAGE)
    .i32(2, uncompressedBytes)
    .i32(3, compressedBytes)
    .struct(
      5,
      (page) =>
        page.i32(1, numValues).i32(2, Encoding.PLAIN).i32(3, Encoding.RLE).i32(4, Encoding.RLE),
    )
    .finish();
}

/** One ZSTD page holding `body` (levels, then values). */
function zstdChunk(
  body: Uint8Array,
  numValues: number,
  offset: number,
  statistics?: (writer: ThriftWriter) => void,
): Chunk {
  const compressed = new Uint8Array(zstdCompressSync(body));
  const header = pageHeader(body.byteLength, compressed.byteLength, numValues);
  return {
    parts: [header, compressed],
    compressedBytes: header.byteLength + compressed.byteLength,
    uncompressedBytes: header.byteLength + body.byteLength,
    numValues,
    offset,
    ...(statistics === undefined ? {} : { statistics }),
  };
}

/** PLAIN BYTE_ARRAY values: each a u32 length and the UTF-8 bytes. */
function plainStrings(values: readonly string[]): Uint8Array {
  let capacity = 0;
  for (const value of values) capacity += 4 + 3 * value.length;
  const out = new Uint8Array(capacity);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const value of values) {
    const { written } = encoder.encodeInto(value, out.subarray(at + 4));
    view.setUint32(at, written, true);
    at += 4 + written;
  }
  return out.subarray(0, at);
}

/** A level section of a v1 page: u32 length, then the levels. */
function levelSection(levels: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 + levels.length);
  new DataView(out.buffer).setUint32(0, levels.length, true);
  out.set(levels, 4);
  return out;
}

function idChunk(ids: readonly RowId[], offset: number): Chunk {
  return zstdChunk(plainStrings(ids.map(String)), ids.length, offset);
}

function idIntChunk(ids: readonly RowId[], offset: number): Chunk {
  const present = new Uint8Array(ids.length);
  const values: bigint[] = [];
  ids.forEach((id, i) => {
    if (typeof id !== "number") return;
    present[i] = 1;
    values.push(BigInt(id));
  });
  const plain = new BigInt64Array(values);
  const body = concatBytes([levelSection(encodeBitLevels(present)), new Uint8Array(plain.buffer)]);
  const int64 = (value: bigint) => new Uint8Array(BigInt64Array.of(value).buffer);
  // Both the legacy max/min (1, 2; signed order, right for INT64) and max_value/min_value (5, 6).
  const statistics = (writer: ThriftWriter) => {
    if (values.length === 0) return void writer.i64(3, ids.length);
    let min = values[0]!;
    let max = min;
    for (const value of values) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    writer.binary(1, int64(max)).binary(2, int64(min)).i64(3, ids.length - values.length)
      .binary(5, int64(max)).binary(6, int64(min));
  };
  return zstdChunk(body, ids.length, offset, statistics);
}

function textChunk(texts: readonly (string | undefined)[], offset: number): Chunk {
  const present = Uint8Array.from(texts, (text) => (text === undefined ? 0 : 1));
  const values = texts.filter((text): text is string => text !== undefined);
  const body = concatBytes([levelSection(encodeBitLevels(present)), plainStrings(values)]);
  return zstdChunk(body, texts.length, offset);
}

function vectorChunk(
  vectors: Float32Array,
  dimension: number,
  offset: number,
  pageBytesMax: number,
): Chunk {
  const count = vectors.length / dimension;
  const rowsPerPage = Math.max(1, Math.floor(pageBytesMax / (4 * dimension + 8)));
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for (let first = 0; first < count; first += rowsPerPage) {
    const rows = Math.min(rowsPerPage, count - first);
    const floats = vectors.subarray(first * dimension, (first + rows) * dimension);
    const page = vectorPage(floats, rows, dimension, offset + bytes);
    parts.push(...page);
    bytes += page.reduce((sum, part) => sum + part.byteLength, 0);
  }
  return {
    parts,
    compressedBytes: bytes,
    uncompressedBytes: bytes,
    numValues: count * dimension,
    offset,
  };
}

/**
 * One vector page: header, repetition levels (each row: one 0, then
 * `dimension − 1` ones), definition levels (all 1), the floats. The definition
 * levels' encoding is chosen (valid, if not minimal) so that the floats start
 * at a multiple of 4 in the file: see {@linkcode ALIGNING_GROUPS_MAX}.
 */
function vectorPage(
  floats: Float32Array,
  rows: number,
  dimension: number,
  pageOffset: number,
): Uint8Array[] {
  const values = rows * dimension;
  const repetition = repetitionLevels(rows, dimension);
  const floatBytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  let chosen: Uint8Array[] | undefined;
  for (let groups = 0; groups <= ALIGNING_GROUPS_MAX; groups++) {
    if (8 * groups >= values) break;
    const definition: number[] = [];
    pushRleRun(definition, values - 8 * groups, 1);
    if (groups > 0) pushOnesBitPacked(definition, groups);
    const levels = concatBytes([levelSection(repetition), levelSection(definition)]);
    const size = levels.byteLength + floatBytes.byteLength;
    const header = pageHeader(size, size, values);
    chosen ??= [header, levels, floatBytes];
    if ((pageOffset + header.byteLength + levels.byteLength) % 4 === 0) {
      return [header, levels, floatBytes];
    }
  }
  return chosen!; // too few values to split: the reader copies these floats
}

function repetitionLevels(rows: number, dimension: number): number[] {
  const out: number[] = [];
  if (dimension === 1) {
    pushRleRun(out, rows, 0);
    return out;
  }
  const row: number[] = [];
  pushRleRun(row, 1, 0);
  pushRleRun(row, dimension - 1, 1);
  for (let r = 0; r < rows; r++) out.push(...row);
  return out;
}

function fileMetadata(chunks: readonly Chunk[], count: number, dimension: number): Uint8Array {
  const writer = new ThriftWriter()
    .i32(1, 1)
    .structList(2, SCHEMA, (element, node) => {
      if (node.type !== undefined) element.i32(1, node.type);
      if (node.repetition !== undefined) element.i32(3, node.repetition);
      element.string(4, node.name);
      if (node.children !== undefined) element.i32(5, node.children);
      if (node.converted !== undefined) element.i32(6, node.converted);
      if (node.logical !== undefined) element.struct(10, (l) => l.struct(node.logical!, () => {}));
    })
    .i64(3, count)
    .structList(4, chunks.length === 0 ? [] : [chunks], (group) => rowGroup(group, chunks, count))
    .structList<readonly [string, string]>(5, [
      ["ARROW:schema", arrowSchemaEntry(dimension)],
      [LAYOUT_KEY, LAYOUT_VERSION],
    ], (entry, [key, value]) => entry.string(1, key).string(2, value))
    .string(6, "akidb vectors.parquet writer")
    .structList(7, LEAF_COLUMNS, (order) => order.struct(1, () => {}));
  return writer.finish();
}

function rowGroup(writer: ThriftWriter, chunks: readonly Chunk[], count: number): void {
  writer.structList(1, chunks, (column, chunk) => {
    const leaf = LEAF_COLUMNS[chunks.indexOf(chunk)]!;
    column.i64(2, 0).struct(3, (meta) => {
      meta.i32(1, leaf.type)
        .i32List(2, leaf.maxDefinition > 0 ? [Encoding.PLAIN, Encoding.RLE] : [Encoding.PLAIN])
        .stringList(3, leaf.path)
        .i32(4, leaf.codec)
        .i64(5, chunk.numValues)
        .i64(6, chunk.uncompressedBytes)
        .i64(7, chunk.compressedBytes)
        .i64(9, chunk.offset);
      if (chunk.statistics !== undefined) meta.struct(12, chunk.statistics);
    });
  });
  writer
    .i64(2, chunks.reduce((sum, chunk) => sum + chunk.uncompressedBytes, 0))
    .i64(3, count)
    .i64(5, Math.min(...chunks.map((chunk) => chunk.offset)))
    .i64(6, chunks.reduce((sum, chunk) => sum + chunk.compressedBytes, 0));
}
