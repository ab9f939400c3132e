/**
 * What AkiDB's own `vectors.parquet` writer and its fast-path reader agree on
 * (private to this folder): Parquet's enum codes, the file's schema, the
 * footer entry that marks a file as laid out by us, and the RLE/bit-packed
 * hybrid encoding of levels. The Parquet definitions are in the format's
 * `parquet.thrift`; only what this file uses is here.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import { CorruptionError } from "../../errors.ts";

/** `"PAR1"`: first and last four bytes of every Parquet file. */
export const PARQUET_MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]);

/** Parquet physical types (`Type`). */
export const PhysicalType = { INT64: 2, FLOAT: 4, BYTE_ARRAY: 6 } as const;
/** `FieldRepetitionType`. */
export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
/** `ConvertedType` (legacy annotations, still read by many tools). */
export const ConvertedType = { UTF8: 0, LIST: 3 } as const;
/** `Encoding`. */
export const Encoding = { PLAIN: 0, RLE: 3 } as const;
/** `CompressionCodec`. */
export const Codec = { UNCOMPRESSED: 0, ZSTD: 6 } as const;
/** `PageType`. */
export const PageType = { DATA_PAGE: 0 } as const;

/**
 * Key of the footer entry (`key_value_metadata`) that marks a file as written
 * by {@linkcode encodeVectorsParquetParts}; its value is the layout version.
 * Files without it are read through parquet-wasm.
 */
export const LAYOUT_KEY = "akidb.vectors_layout";
/** The layout this code writes and reads directly. */
export const LAYOUT_VERSION = "1";

/** One column of the file, as the reader checks it and the writer declares it. */
export interface LeafColumn {
  readonly path: readonly string[];
  readonly type: number;
  readonly codec: number;
  /** 1 when the leaf has definition levels (nullable, or inside the list). */
  readonly maxDefinition: number;
  readonly maxRepetition: number;
}

/** The four leaf columns, in file order. */
export const LEAF_COLUMNS: readonly LeafColumn[] = [
  {
    path: ["id"],
    type: PhysicalType.BYTE_ARRAY,
    codec: Codec.ZSTD,
    maxDefinition: 0,
    maxRepetition: 0,
  },
  {
    path: ["id_int"],
    type: PhysicalType.INT64,
    codec: Codec.ZSTD,
    maxDefinition: 1,
    maxRepetition: 0,
  },
  {
    path: ["vector", "list", "item"],
    type: PhysicalType.FLOAT,
    codec: Codec.UNCOMPRESSED,
    maxDefinition: 1,
    maxRepetition: 1,
  },
  {
    path: ["metadata"],
    type: PhysicalType.BYTE_ARRAY,
    codec: Codec.ZSTD,
    maxDefinition: 1,
    maxRepetition: 0,
  },
];

/** One `SchemaElement` of the flattened schema (depth first). */
export interface SchemaNode {
  readonly name: string;
  readonly type?: number;
  readonly repetition?: number;
  readonly children?: number;
  readonly converted?: number;
  /** `LogicalType` union member: 1 STRING, 3 LIST. */
  readonly logical?: number;
}

/** The schema as parquet-rs writes it for our Arrow schema (so every reader sees the same). */
export const SCHEMA: readonly SchemaNode[] = [
  { name: "arrow_schema", children: 4 },
  {
    name: "id",
    type: PhysicalType.BYTE_ARRAY,
    repetition: Repetition.REQUIRED,
    converted: ConvertedType.UTF8,
    logical: 1,
  },
  { name: "id_int", type: PhysicalType.INT64, repetition: Repetition.OPTIONAL },
  {
    name: "vector",
    repetition: Repetition.REQUIRED,
    children: 1,
    converted: ConvertedType.LIST,
    logical: 3,
  },
  { name: "list", repetition: Repetition.REPEATED, children: 1 },
  { name: "item", type: PhysicalType.FLOAT, repetition: Repetition.REQUIRED },
  {
    name: "metadata",
    type: PhysicalType.BYTE_ARRAY,
    repetition: Repetition.OPTIONAL,
    converted: ConvertedType.UTF8,
    logical: 1,
  },
];

const arrowSchemas = new Map<number, string>();

/**
 * The `ARROW:schema` footer entry for a dimension: the Arrow IPC schema
 * message, base64, as parquet-rs stores it, so Arrow-based readers (parquet-wasm
 * is tested) get `FixedSizeList<float32, dimension>` back rather than a list.
 *
 * @param dimension floats per vector
 * @returns the entry's value
 */
export function arrowSchemaEntry(dimension: number): string {
  let value = arrowSchemas.get(dimension);
  if (value === undefined) {
    const schema = new arrow.Schema([
      new arrow.Field("id", new arrow.Utf8(), false),
      new arrow.Field("id_int", new arrow.Int64(), true),
      new arrow.Field(
        "vector",
        new arrow.FixedSizeList(dimension, new arrow.Field("item", new arrow.Float32(), false)),
        false,
      ),
      new arrow.Field("metadata", new arrow.Utf8(), true),
    ]);
    const stream = arrow.tableToIPC(new arrow.Table(schema), "stream");
    // The stream's first message is the schema: 0xffffffff, its length, the flatbuffer.
    const length = new DataView(stream.buffer, stream.byteOffset).getInt32(4, true);
    value = btoa(String.fromCharCode(...stream.subarray(0, 8 + length)));
    arrowSchemas.set(dimension, value);
  }
  return value;
}

/** Appends `value` as an unsigned LEB128 varint. */
function pushVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/**
 * Appends one RLE run of a level of bit width 1 (`count` copies of `value`).
 *
 * @param out the bytes so far
 * @param count copies, ≥ 1
 * @param value 0 or 1
 */
export function pushRleRun(out: number[], count: number, value: number): void {
  pushVarint(out, count * 2);
  out.push(value);
}

/**
 * Appends one bit-packed run of `groups` × 8 ones (level bit width 1).
 *
 * @param out the bytes so far
 * @param groups groups of 8 values, ≥ 1
 */
export function pushOnesBitPacked(out: number[], groups: number): void {
  pushVarint(out, groups * 2 + 1);
  for (let group = 0; group < groups; group++) out.push(0xff);
}

/**
 * Levels of bit width 1 in the RLE/bit-packed hybrid: one RLE run when all are
 * equal, else one bit-packed run (values past the end of the last group of 8
 * are padding, which readers ignore).
 *
 * @param levels one 0/1 per value
 * @returns the encoded levels
 */
export function encodeBitLevels(levels: Uint8Array): number[] {
  const out: number[] = [];
  if (levels.length === 0) return out;
  if (levels.every((level) => level === levels[0])) {
    pushRleRun(out, levels.length, levels[0]!);
    return out;
  }
  const groups = Math.ceil(levels.length / 8);
  pushVarint(out, groups * 2 + 1);
  for (let group = 0; group < groups; group++) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) byte |= (levels[group * 8 + bit] ?? 0) << bit;
    out.push(byte);
  }
  return out;
}

/**
 * Walks levels of bit width 1 in the hybrid encoding, run by run.
 *
 * @param bytes the encoded levels
 * @param count how many levels to read
 * @param onRun called with each run's value and length (bit-packed runs: one value at a time)
 * @throws CorruptionError when the bytes end before `count` levels or a value is not 0/1
 */
export function walkBitLevels(
  bytes: Uint8Array,
  count: number,
  onRun: (value: number, length: number) => void,
): void {
  let at = 0;
  let done = 0;
  const fail = (reason: string): never => {
    throw new CorruptionError(`Cannot read levels: ${reason}`);
  };
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (at >= bytes.length) fail("they end early");
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
    return fail("a run header is too long");
  };
  while (done < count) {
    const header = varint();
    if (header % 2 === 0) {
      const length = header / 2;
      if (at >= bytes.length) fail("they end early");
      const value = bytes[at++]!;
      if (value > 1 || length === 0) fail(`an RLE run of ${length} × ${value}`);
      const used = Math.min(length, count - done);
      onRun(value, used);
      done += used;
    } else {
      const groups = (header - 1) / 2;
      if (at + groups > bytes.length) fail("a bit-packed run ends early");
      for (let i = 0; i < groups * 8 && done < count; i++, done++) {
        onRun((bytes[at + (i >> 3)]! >> (i & 7)) & 1, 1);
      }
      at += groups;
    }
  }
}
