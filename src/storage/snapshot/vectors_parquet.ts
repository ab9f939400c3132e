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
 * SQL readers a numeric column. ZSTD compression, no dictionary encoding
 * (floats and unique ids do not repeat; it only costs time).
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
  const props = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setDictionaryEnabled(false)
    .build();
  return pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), props);
}

/**
 * Decodes a Parquet file written by {@linkcode encodeVectorsParquet}.
 *
 * @param bytes the file's bytes
 * @param dimension the expected floats per vector
 * @param where the file's path, for messages
 * @returns the rows (vectors copied into one contiguous array)
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
    table = arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream());
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
  const vectors = new Float32Array(table.numRows * dimension);
  let row = 0;
  for (const batch of table.batches) {
    const idColumn = batch.getChild("id");
    const idIntColumn = batch.getChild("id_int");
    const vectorColumn = batch.getChild("vector");
    const metadataColumn = batch.getChild("metadata");
    if (!idColumn || !idIntColumn || !vectorColumn || !metadataColumn) {
      return fail("a column of id, id_int, vector, metadata is missing");
    }
    for (let i = 0; i < batch.numRows; i++) {
      const text = idColumn.get(i) as string | null;
      const integer = idIntColumn.get(i) as bigint | null;
      if (text === null) fail(`row ${row + i} has a null id`);
      if (integer !== null && String(integer) !== text) {
        fail(`row ${row + i}: id "${text}" disagrees with id_int ${integer}`);
      }
      ids.push(integer === null ? text! : Number(integer));
      const json = metadataColumn.get(i) as string | null;
      metadata.push(json === null ? undefined : json);
    }
    for (const data of vectorColumn.data) {
      const child = data.children[0]!;
      const floats = (child.values as Float32Array).subarray(
        child.offset + data.offset * dimension,
        child.offset + (data.offset + data.length) * dimension,
      );
      vectors.set(floats, row * dimension);
      row += data.length;
    }
  }
  if (row !== table.numRows || ids.length !== row) fail("columns disagree in length");
  return { ids, vectors, metadata };
}
