/**
 * `vectors.parquet`: one row per live point, written by AkiDB's own Parquet
 * writer and read directly (files of earlier versions and of other writers
 * through `parquet-wasm`). Columns, in order:
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
 * not repeat; it only costs time). The footer carries the Arrow schema, so
 * Arrow readers get `FixedSizeList<float32, dim>` back.
 *
 * @module
 */

import * as pq from "parquet-wasm";
import { CorruptionError } from "../../errors.ts";
import { FfiMemory } from "./arrow_ffi.ts";
import { concatBytes } from "../../bytes.ts";
import { encodeVectorsParquetParts } from "./vectors_parquet_writer.ts";
import { decodeOwnLayout, ownLayoutFooter } from "./vectors_parquet_reader.ts";

export { encodeVectorsParquetParts };

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

/**
 * Encodes rows as a Parquet file (AkiDB's own writer, see
 * `vectors_parquet_writer.ts`), as one array. The snapshot writer uses
 * {@linkcode encodeVectorsParquetParts} instead, which does not copy the floats.
 *
 * @param rows the rows
 * @param dimension floats per vector
 * @returns the file's bytes
 * @throws RangeError when the columns disagree in length
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeVectorsParquet, encodeVectorsParquet } from "./vectors_parquet.ts";
 * const rows = { ids: ["a", 7], vectors: new Float32Array([1, 2, 3, 4]), metadata: ["{}", undefined] };
 * const back = decodeVectorsParquet(encodeVectorsParquet(rows, 2), 2, "v.parquet");
 * assert.deepEqual(back.ids, ["a", 7]);
 * assert.deepEqual(Array.from(back.vectors), [1, 2, 3, 4]);
 * ```
 */
export function encodeVectorsParquet(rows: SnapshotRows, dimension: number): Uint8Array {
  return concatBytes([...encodeVectorsParquetParts(rows, dimension)]);
}

/**
 * Decodes a `vectors.parquet` file: directly when our writer laid it out (see
 * `vectors_parquet_reader.ts`), through parquet-wasm otherwise (files of
 * earlier versions, or rewritten by another tool).
 *
 * @param bytes the file's bytes
 * @param dimension the expected floats per vector
 * @param where the file's path, for messages
 * @returns the rows; the vectors may view `bytes` (keep it unchanged while they are used)
 * @throws CorruptionError when the file does not parse or its columns are wrong
 */
export function decodeVectorsParquet(
  bytes: Uint8Array,
  dimension: number,
  where: string,
): SnapshotRows {
  const footer = ownLayoutFooter(bytes);
  if (footer !== undefined) return decodeOwnLayout(bytes, footer, dimension, where);
  return decodeWithParquetWasm(bytes, dimension, where);
}

/**
 * Decodes any Parquet file with our columns through parquet-wasm.
 *
 * @returns the rows (vectors copied out of wasm memory into one contiguous array)
 */
function decodeWithParquetWasm(
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
  let stream: pq.FFIStream;
  try {
    // One batch for the whole file (the reader caps the batch at the row count), read
    // through the C Data Interface from wasm memory: no IPC stream is built.
    stream = pq.readParquet(bytes, { batchSize: MAX_BATCH_ROWS }).intoFFI();
  } catch (error) {
    return fail(`not a readable Parquet file: ${(error as Error).message ?? error}`, error);
  }
  try {
    return decodeStream(stream, dimension, fail);
  } catch (error) {
    if (error instanceof CorruptionError) throw error;
    return fail(`unreadable columns: ${(error as Error).message ?? error}`, error);
  } finally {
    stream.free();
  }
}

/** Rows per decoded batch: more than any snapshot has, so a file is one batch. */
const MAX_BATCH_ROWS = 2 ** 30;

const COLUMN_FORMATS = { id: "u", id_int: "l", metadata: "u" } as const;

function decodeStream(
  stream: pq.FFIStream,
  dimension: number,
  fail: (reason: string) => never,
): SnapshotRows {
  // Addresses first: the memory view is taken after the last call into wasm (a call
  // that grew the memory would detach the buffer).
  const schemaAddr = stream.schemaAddr();
  const arrayAddrs = Array.from({ length: stream.numArrays() }, (_, i) => stream.arrayAddr(i));
  const memory = new FfiMemory(pq.wasmMemory().buffer as ArrayBuffer);
  const schema = memory.schema(schemaAddr);
  const position = (name: string): number => {
    const at = schema.children.findIndex((field) => field.name === name);
    if (at < 0) fail("a column of id, id_int, vector, metadata is missing");
    return at;
  };
  const vectorAt = position("vector");
  const vectorField = schema.children[vectorAt]!;
  if (
    vectorField.format !== `+w:${dimension}` || vectorField.children[0]?.format !== "f"
  ) {
    fail(
      `column "vector" is ${vectorField.format}<${vectorField.children[0]?.format}>, ` +
        `expected ${dimension} floats (+w:${dimension}<f>)`,
    );
  }
  const at = { id: position("id"), id_int: position("id_int"), metadata: position("metadata") };
  for (const [name, format] of Object.entries(COLUMN_FORMATS)) {
    const found = schema.children[at[name as keyof typeof at]]!.format;
    if (found !== format) {
      fail(`column "${name}" has Arrow format "${found}", expected "${format}"`);
    }
  }
  const ids: RowId[] = [];
  const metadata: (string | undefined)[] = [];
  const batches = arrayAddrs.map((addr) => memory.array(addr));
  const chunks: Float32Array[] = [];
  let row = 0;
  for (const batch of batches) {
    const column = (i: number) => {
      const array = batch.children[i];
      if (array === undefined || array.length < batch.offset + batch.length) {
        fail("columns disagree in length");
      }
      return array!;
    };
    const texts = memory.utf8(column(at.id));
    const integers = memory.int64(column(at.id_int));
    const jsons = memory.utf8(column(at.metadata));
    const list = column(vectorAt);
    const floats = list.children[0];
    if (floats === undefined || floats.length < (list.offset + list.length) * dimension) {
      fail('column "vector" has fewer floats than rows × dimension');
    }
    // Struct children carry the parent's offset on top of their own.
    const first = batch.offset;
    for (let i = 0; i < batch.length; i++) {
      const text = texts[first + i] ?? null;
      const integer = integers[first + i] ?? null;
      if (text === null) fail(`row ${row + i} has a null id`);
      if (integer !== null && String(integer) !== text) {
        fail(`row ${row + i}: id "${text}" disagrees with id_int ${integer}`);
      }
      ids.push(integer === null ? text! : Number(integer));
      metadata.push(jsons[first + i] ?? undefined);
    }
    // A copy out of wasm memory (freed below); slice() is the fastest copy here.
    chunks.push(
      memory.float32(floats!, (list.offset + first) * dimension, batch.length * dimension).slice(),
    );
    row += batch.length;
  }
  return { ids, vectors: concatFloats(chunks, row * dimension), metadata };
}

/** The chunks as one array: the chunk itself when there is one (no second copy). */
function concatFloats(chunks: readonly Float32Array[], length: number): Float32Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Float32Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
