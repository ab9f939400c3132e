/**
 * `vectors.parquet`: one row per live point, through `apache-arrow` (columns)
 * and `parquet-wasm` (file). Columns, in order:
 *
 * | column     | type                                 | null? | content                               |
 * |------------|--------------------------------------|-------|---------------------------------------|
 * | `id`       | utf8                                 | no    | the id; an integer id in decimal      |
 * | `id_int`   | int64                                | yes   | the id when it is an integer, else null |
 * | `vector`   | FixedSizeList<float32 "item", dim>   | no    | the vector, bit for bit               |
 * | `metadata` | utf8 (JSON object)                   | yes   | the metadata as logged, or null        |
 *
 * `"7"` and `7` are different point ids; `id_int` tells them apart and gives
 * SQL readers a numeric column. `id`, `id_int` and `metadata` are ZSTD; the
 * vector floats are uncompressed (float32 embeddings compress by < 10 % at a
 * large CPU cost). PLAIN encoding, no dictionaries (floats and unique ids do
 * not repeat; it only costs time).
 *
 * @module
 */

import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { CorruptionError } from "../../errors.ts";

/** A point id as stored: a string or a non-negative safe integer. */
export type RowId = string | number;

/** The rows of a snapshot, column-wise. */
export interface SnapshotRows {
  /** One id per row. */
  readonly ids: readonly RowId[];
  /** `ids.length × dimension` floats, row-major. */
  readonly vectors: Float32Array;
  /** One entry per row: the metadata JSON text, or undefined. */
  readonly metadata: readonly (string | undefined)[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The columns written with ZSTD. The vector floats (Parquet leaf
 * `vector.list.item`) are written uncompressed, PLAIN, without statistics:
 * float32 embeddings compress by < 10 % at a large CPU cost.
 */
const ZSTD_COLUMNS = ["id", "id_int", "metadata"] as const;

/** An Arrow utf8 column built directly from offsets and bytes (one chunk, fast). */
function utf8Data(values: readonly (string | undefined)[]): arrow.Data<arrow.Utf8> {
  const encoded = values.map((value) => value === undefined ? undefined : encoder.encode(value));
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  encoded.forEach((bytes, i) => {
    total += bytes?.byteLength ?? 0;
    offsets[i + 1] = total;
  });
  const bytes = new Uint8Array(total);
  encoded.forEach((part, i) => {
    if (part !== undefined) bytes.set(part, offsets[i]!);
  });
  const nullCount = encoded.filter((part) => part === undefined).length;
  return arrow.makeData({
    type: new arrow.Utf8(),
    length: values.length,
    valueOffsets: offsets,
    data: bytes,
    nullCount,
    ...(nullCount === 0 ? {} : { nullBitmap: validityBitmap(encoded) }),
  });
}

function validityBitmap(values: readonly unknown[]): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((value, i) => {
    if (value !== undefined) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return bitmap;
}

function idIntData(ids: readonly RowId[]): arrow.Data<arrow.Int64> {
  const values = new BigInt64Array(ids.length);
  const present = ids.map((id, i) => {
    if (typeof id !== "number") return undefined;
    values[i] = BigInt(id);
    return id;
  });
  const nullCount = present.filter((id) => id === undefined).length;
  return arrow.makeData({
    type: new arrow.Int64(),
    length: ids.length,
    data: values,
    nullCount,
    ...(nullCount === 0 ? {} : { nullBitmap: validityBitmap(present) }),
  });
}

/**
 * Encodes rows as a Parquet file.
 *
 * @param rows the rows
 * @param dimension floats per vector
 * @returns the file's bytes
 * @throws RangeError when the columns disagree in length
 */
export function encodeVectorsParquet(rows: SnapshotRows, dimension: number): Uint8Array {
  const count = rows.ids.length;
  if (rows.vectors.length !== count * dimension || rows.metadata.length !== count) {
    throw new RangeError(
      `Cannot encode snapshot rows: ${count} ids, ${rows.vectors.length} floats, ` +
        `${rows.metadata.length} metadata for dimension ${dimension}`,
    );
  }
  const vectorType = new arrow.FixedSizeList(
    dimension,
    new arrow.Field("item", new arrow.Float32(), false),
  );
  const fields = [
    new arrow.Field("id", new arrow.Utf8(), false),
    new arrow.Field("id_int", new arrow.Int64(), true),
    new arrow.Field("vector", vectorType, false),
    new arrow.Field("metadata", new arrow.Utf8(), true),
  ];
  const vectorData = arrow.makeData({
    type: vectorType,
    length: count,
    nullCount: 0,
    child: arrow.makeData({
      type: new arrow.Float32(),
      length: count * dimension,
      data: rows.vectors,
    }),
  });
  const struct = arrow.makeData({
    type: new arrow.Struct(fields),
    length: count,
    nullCount: 0,
    children: [
      utf8Data(rows.ids.map(String)),
      idIntData(rows.ids),
      vectorData,
      utf8Data(rows.metadata),
    ],
  });
  const table = new arrow.Table([new arrow.RecordBatch(new arrow.Schema(fields), struct)]);
  // parquet-wasm turns a column name into a one-part column path, so a nested
  // leaf (`vector.list.item`) cannot be addressed: the defaults are what the
  // vector floats get, and the top-level columns are set one by one.
  let builder = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.UNCOMPRESSED)
    .setEncoding(pq.Encoding.PLAIN)
    .setDictionaryEnabled(false)
    .setStatisticsEnabled(pq.EnabledStatistics.None);
  for (const column of ZSTD_COLUMNS) {
    builder = builder.setColumnCompression(column, pq.Compression.ZSTD)
      .setColumnStatisticsEnabled(column, pq.EnabledStatistics.Chunk);
  }
  const props = builder.build();
  return pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), props);
}

/**
 * Decodes a Parquet file written by {@linkcode encodeVectorsParquet}.
 *
 * @param bytes the file's bytes
 * @param dimension the expected floats per vector
 * @param where the file's path, for messages
 * @returns the rows (the vectors are a view of the decoded batch when the file is one batch)
 * @throws CorruptionError when the file does not parse or its columns are wrong
 */
export function decodeVectorsParquet(
  bytes: Uint8Array,
  dimension: number,
  where: string,
): SnapshotRows {
  const fail = (reason: string, cause?: unknown): never => {
    throw new CorruptionError(`Cannot read snapshot file "${where}": ${reason}`, {
      code: "snapshot_corrupt",
      ...(cause === undefined ? {} : { cause }),
    });
  };
  let table: arrow.Table;
  try {
    // One batch for the whole file (the reader caps the batch at the row count), so
    // the vector floats arrive as one contiguous Float32Array, used without a copy.
    table = arrow.tableFromIPC(
      pq.readParquet(bytes, { batchSize: MAX_BATCH_ROWS }).intoIPCStream(),
    );
  } catch (error) {
    return fail(`not a readable Parquet file: ${(error as Error).message ?? error}`, error);
  }
  const vectorField = table.schema.fields.find((field) => field.name === "vector");
  if (
    !(vectorField?.type instanceof arrow.FixedSizeList) || vectorField.type.listSize !== dimension
  ) {
    fail(`column "vector" is ${vectorField?.type ?? "missing"}, expected ${dimension} floats`);
  }
  const ids: RowId[] = [];
  const metadata: (string | undefined)[] = [];
  const chunks: Float32Array[] = [];
  let row = 0;
  for (const batch of table.batches) {
    const idColumn = batch.getChild("id");
    const idIntColumn = batch.getChild("id_int");
    const vectorColumn = batch.getChild("vector");
    const metadataColumn = batch.getChild("metadata");
    if (!idColumn || !idIntColumn || !vectorColumn || !metadataColumn) {
      return fail("a column of id, id_int, vector, metadata is missing");
    }
    const texts = utf8Values(idColumn.data as arrow.Data<arrow.Utf8>[]);
    const integers = int64Values(idIntColumn.data as arrow.Data<arrow.Int64>[]);
    const jsons = utf8Values(metadataColumn.data as arrow.Data<arrow.Utf8>[]);
    if (texts.length !== batch.numRows || integers.length !== batch.numRows) {
      fail("columns disagree in length");
    }
    for (let i = 0; i < batch.numRows; i++) {
      const text = texts[i] ?? null;
      const integer = integers[i] ?? null;
      if (text === null) fail(`row ${row + i} has a null id`);
      if (integer !== null && String(integer) !== text) {
        fail(`row ${row + i}: id "${text}" disagrees with id_int ${integer}`);
      }
      ids.push(integer === null ? text! : Number(integer));
      metadata.push(jsons[i] ?? undefined);
    }
    let batchRows = 0;
    for (const data of vectorColumn.data) {
      const child = data.children[0]!;
      chunks.push(
        (child.values as Float32Array).subarray(
          child.offset + data.offset * dimension,
          child.offset + (data.offset + data.length) * dimension,
        ),
      );
      batchRows += data.length;
    }
    if (batchRows !== batch.numRows) fail("columns disagree in length");
    row += batch.numRows;
  }
  if (row !== table.numRows || ids.length !== row || metadata.length !== row) {
    fail("columns disagree in length");
  }
  return { ids, vectors: concatFloats(chunks, row * dimension), metadata };
}

/** Rows per decoded batch: more than any snapshot has, so a file is one batch. */
const MAX_BATCH_ROWS = 2 ** 30;

/** The chunks as one array: the chunk itself when there is one (no copy). */
function concatFloats(chunks: readonly Float32Array[], length: number): Float32Array {
  if (chunks.length === 1 && chunks[0]!.length === length) return chunks[0]!;
  const out = new Float32Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * The strings of utf8 column chunks (null for a null entry), read straight from
 * the offsets and bytes: all-ASCII text (the usual case for ids and JSON) is
 * decoded once and sliced, anything else row by row.
 */
function utf8Values(chunks: readonly arrow.Data<arrow.Utf8>[]): (string | null)[] {
  const out: (string | null)[] = [];
  for (const data of chunks) {
    const offsets = data.valueOffsets;
    const values = data.values;
    const first = offsets[data.offset]!;
    const last = offsets[data.offset + data.length]!;
    const all = decoder.decode(values.subarray(first, last));
    const ascii = all.length === last - first; // UTF-8 multi-byte sequences shorten the text
    for (let i = 0; i < data.length; i++) {
      if (data.nullCount > 0 && !data.getValid(i)) {
        out.push(null);
        continue;
      }
      const start = offsets[data.offset + i]!;
      const end = offsets[data.offset + i + 1]!;
      out.push(
        ascii ? all.slice(start - first, end - first) : decoder.decode(values.subarray(start, end)),
      );
    }
  }
  return out;
}

/** The values of int64 column chunks (null for a null entry). */
function int64Values(chunks: readonly arrow.Data<arrow.Int64>[]): (bigint | null)[] {
  const out: (bigint | null)[] = [];
  for (const data of chunks) {
    const values = data.values as BigInt64Array;
    for (let i = 0; i < data.length; i++) {
      out.push(data.nullCount > 0 && !data.getValid(i) ? null : values[data.offset + i]!);
    }
  }
  return out;
}
