/**
 * The fast path for reading `vectors.parquet` files that AkiDB's own writer
 * laid out (footer entry `akidb.vectors_layout` = `"1"`): the footer and page
 * headers are parsed here, the small columns decompressed with ZSTD, and the
 * vector floats viewed in place (one page, aligned) or copied once. Every
 * length, offset, level and count is checked; a file that claims our layout
 * but breaks it is refused. Any other file is left to parquet-wasm.
 *
 * @module
 */

import { zstdDecompressSync } from "node:zlib";
import { CorruptionError } from "../../errors.ts";
import { readThriftStruct, type ThriftStruct, type ThriftValue } from "./thrift_compact.ts";
import {
  Codec,
  Encoding,
  LAYOUT_KEY,
  LAYOUT_VERSION,
  LEAF_COLUMNS,
  type LeafColumn,
  PageType,
  PARQUET_MAGIC,
  SCHEMA,
  walkBitLevels,
} from "./_parquet_layout.ts";
import type { RowId, SnapshotRows } from "./vectors_parquet.ts";

const utf8 = new TextDecoder();
const latin1 = new TextDecoder("latin1");

type Fail = (reason: string) => never;

/** One decoded data page: its level count and uncompressed body. */
interface Page {
  readonly numValues: number;
  readonly body: Uint8Array;
}

/**
 * The footer of a Parquet file, when the file is one our writer laid out.
 *
 * @param bytes the whole file
 * @returns the parsed `FileMetaData`, or undefined for any other file (or no footer)
 */
export function ownLayoutFooter(bytes: Uint8Array): ThriftStruct | undefined {
  const size = bytes.byteLength;
  if (size < 12 || !hasMagic(bytes, 0) || !hasMagic(bytes, size - 4)) return undefined;
  const footerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(size - 8, true);
  if (footerBytes > size - 12) return undefined;
  let footer: ThriftStruct;
  try {
    footer = readThriftStruct(bytes, size - 8 - footerBytes, size - 8).value;
  } catch {
    return undefined;
  }
  const entries = footer.get(5);
  if (!Array.isArray(entries)) return undefined;
  const marked = entries.some((entry) =>
    entry instanceof Map && text(entry.get(1)) === LAYOUT_KEY &&
    text(entry.get(2)) === LAYOUT_VERSION
  );
  return marked ? footer : undefined;
}

function hasMagic(bytes: Uint8Array, at: number): boolean {
  return PARQUET_MAGIC.every((byte, i) => bytes[at + i] === byte);
}

function text(value: ThriftValue | undefined): string | undefined {
  return value instanceof Uint8Array ? utf8.decode(value) : undefined;
}

/**
 * Decodes a file of our layout.
 *
 * @param bytes the whole file
 * @param footer what {@linkcode ownLayoutFooter} returned for it
 * @param dimension the expected floats per vector
 * @param where the file's path, for messages
 * @returns the rows; the vectors view `bytes` when they lie in one aligned page
 * @throws CorruptionError when the file breaks the layout anywhere
 */
export function decodeOwnLayout(
  bytes: Uint8Array,
  footer: ThriftStruct,
  dimension: number,
  where: string,
): SnapshotRows {
  const fail: Fail = (reason) => {
    throw new CorruptionError(`Cannot read snapshot file "${where}": ${reason}`, {
      code: "snapshot_corrupt",
    });
  };
  try {
    return decodeChecked(bytes, footer, dimension, fail);
  } catch (error) {
    if (error instanceof CorruptionError && error.message.startsWith("Cannot read snapshot")) {
      throw error;
    }
    return fail(`damaged page or footer: ${(error as Error).message ?? error}`);
  }
}

function decodeChecked(
  bytes: Uint8Array,
  footer: ThriftStruct,
  dimension: number,
  fail: Fail,
): SnapshotRows {
  checkSchema(footer.get(2), fail);
  const count = integer(footer.get(3), "num_rows", fail);
  const groups = footer.get(4);
  if (!Array.isArray(groups)) return fail("row_groups is missing");
  const dataEnd = bytes.byteLength - 8 - new DataView(bytes.buffer, bytes.byteOffset)
    .getUint32(bytes.byteLength - 8, true);
  const texts: string[] = [];
  const integers: (bigint | null)[] = [];
  const metadata: (string | undefined)[] = [];
  const floatPages: Uint8Array[] = [];
  let rows = 0;
  for (const group of groups) {
    if (!(group instanceof Map)) return fail("a row group is not a struct");
    const groupRows = integer(group.get(3), "row group num_rows", fail);
    const columns = group.get(1);
    if (!Array.isArray(columns) || columns.length !== LEAF_COLUMNS.length) {
      return fail("a row group does not have the 4 columns");
    }
    const pages = columns.map((column, i) =>
      columnPages(bytes, column, LEAF_COLUMNS[i]!, dataEnd, fail)
    );
    readStrings(pages[0]!, false, groupRows, fail).forEach((value) => texts.push(value!));
    integers.push(...readInt64s(pages[1]!, groupRows, fail));
    floatPages.push(...readFloatPages(pages[2]!, groupRows, dimension, fail));
    readStrings(pages[3]!, true, groupRows, fail).forEach((value) =>
      metadata.push(value ?? undefined)
    );
    rows += groupRows;
  }
  if (rows !== count) fail(`row groups hold ${rows} rows, the footer says ${count}`);
  const ids: RowId[] = texts.map((value, row) => {
    const number = integers[row];
    if (number === null || number === undefined) return value;
    if (String(number) !== value) fail(`row ${row}: id "${value}" disagrees with id_int ${number}`);
    return Number(number);
  });
  return { ids, vectors: joinFloats(floatPages, rows * dimension), metadata };
}

function checkSchema(schema: ThriftValue | undefined, fail: Fail): void {
  if (!Array.isArray(schema) || schema.length !== SCHEMA.length) fail("the schema is not ours");
  SCHEMA.forEach((node, i) => {
    const element = (schema as ThriftValue[])[i];
    if (
      !(element instanceof Map) || text(element.get(4)) !== node.name ||
      element.get(1) !== node.type || element.get(3) !== node.repetition ||
      element.get(5) !== node.children
    ) {
      fail(`schema element ${i} is not "${node.name}" as written`);
    }
  });
}

function integer(value: ThriftValue | undefined, what: string, fail: Fail): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    return fail(`${what} is ${value}, expected an integer ≥ 0`);
  }
  return value;
}

/** The data pages of one column chunk, decompressed, each checked against its header. */
function columnPages(
  bytes: Uint8Array,
  column: ThriftValue,
  leaf: LeafColumn,
  dataEnd: number,
  fail: Fail,
): Page[] {
  const name = leaf.path.join(".");
  const meta = column instanceof Map ? column.get(3) : undefined;
  if (!(meta instanceof Map)) return fail(`column "${name}" has no metadata`);
  const path = meta.get(3);
  if (
    meta.get(1) !== leaf.type || meta.get(4) !== leaf.codec || !Array.isArray(path) ||
    path.map(text).join(".") !== name || meta.has(11)
  ) {
    fail(`column "${name}" is not laid out as written`);
  }
  const start = integer(meta.get(9), `column "${name}" data_page_offset`, fail);
  const end = start + integer(meta.get(7), `column "${name}" total_compressed_size`, fail);
  if (start < PARQUET_MAGIC.byteLength || end > dataEnd) fail(`column "${name}" lies outside`);
  const numValues = integer(meta.get(5), `column "${name}" num_values`, fail);
  const pages: Page[] = [];
  let at = start;
  let values = 0;
  while (at < end) {
    const { value: header, end: bodyStart } = readThriftStruct(bytes, at, end);
    const page = header.get(5);
    const size = integer(header.get(3), "compressed_page_size", fail);
    const uncompressedSize = integer(header.get(2), "uncompressed_page_size", fail);
    if (
      header.get(1) !== PageType.DATA_PAGE || !(page instanceof Map) ||
      page.get(2) !== Encoding.PLAIN || page.get(3) !== Encoding.RLE ||
      page.get(4) !== Encoding.RLE || bodyStart + size > end
    ) {
      fail(`column "${name}": page at byte ${at} is not a PLAIN data page within the chunk`);
    }
    const stored = bytes.subarray(bodyStart, bodyStart + size);
    const body = leaf.codec === Codec.ZSTD ? new Uint8Array(zstdDecompressSync(stored)) : stored;
    if (body.byteLength !== uncompressedSize) {
      fail(
        `column "${name}": page at byte ${at} holds ${body.byteLength} bytes, header says ${uncompressedSize}`,
      );
    }
    const pageValues = integer((page as ThriftStruct).get(1), "page num_values", fail);
    pages.push({ numValues: pageValues, body });
    values += pageValues;
    at = bodyStart + size;
  }
  if (values !== numValues) {
    fail(`column "${name}": pages hold ${values} values, chunk says ${numValues}`);
  }
  return pages;
}

/** A v1 level section (u32 length, levels) at `at`: the levels' bytes. */
function levelSection(body: Uint8Array, at: number, fail: Fail): Uint8Array {
  if (at + 4 > body.byteLength) fail("a page ends inside its levels");
  const length = new DataView(body.buffer, body.byteOffset + at).getUint32(0, true);
  if (at + 4 + length > body.byteLength) fail("a page's levels run past its end");
  return body.subarray(at + 4, at + 4 + length);
}

/** 0/1 definition levels of an optional column's page. */
function presence(page: Page, fail: Fail): { present: Uint8Array; valuesAt: number } {
  const levels = levelSection(page.body, 0, fail);
  const present = new Uint8Array(page.numValues);
  let at = 0;
  walkBitLevels(levels, page.numValues, (value, length) => {
    present.fill(value, at, at + length);
    at += length;
  });
  return { present, valuesAt: 4 + levels.byteLength };
}

/** BYTE_ARRAY values as strings; null where an optional column's level is 0. */
function readStrings(
  pages: readonly Page[],
  optional: boolean,
  rows: number,
  fail: Fail,
): (string | null)[] {
  const out: (string | null)[] = [];
  for (const page of pages) {
    const { present, valuesAt } = optional
      ? presence(page, fail)
      : { present: undefined, valuesAt: 0 };
    const body = page.body;
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const all = latin1.decode(body); // one char per byte: ASCII values are sliced from it
    let at = valuesAt;
    for (let i = 0; i < page.numValues; i++) {
      if (present !== undefined && present[i] === 0) {
        out.push(null);
        continue;
      }
      if (at + 4 > body.byteLength) fail("a string column ends early");
      const length = view.getUint32(at, true);
      const start = at + 4;
      at = start + length;
      if (at > body.byteLength) fail("a string runs past its page");
      out.push(
        isAscii(body, start, at) ? all.slice(start, at) : utf8.decode(body.subarray(start, at)),
      );
    }
    if (at !== body.byteLength) fail("a string column has trailing bytes");
  }
  if (out.length !== rows) fail(`a string column has ${out.length} values for ${rows} rows`);
  return out;
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

function readInt64s(pages: readonly Page[], rows: number, fail: Fail): (bigint | null)[] {
  const out: (bigint | null)[] = [];
  for (const page of pages) {
    const { present, valuesAt } = presence(page, fail);
    const body = page.body;
    const present1 = present.reduce((sum, bit) => sum + bit, 0);
    if (body.byteLength - valuesAt !== 8 * present1) fail("id_int values disagree with its levels");
    const view = new DataView(body.buffer, body.byteOffset + valuesAt);
    let next = 0;
    for (let i = 0; i < page.numValues; i++) {
      out.push(present[i] === 1 ? view.getBigInt64(8 * next++, true) : null);
    }
  }
  if (out.length !== rows) fail(`id_int has ${out.length} values for ${rows} rows`);
  return out;
}

/** The float bytes of each vector page, after checking its levels row by row. */
function readFloatPages(
  pages: readonly Page[],
  rows: number,
  dimension: number,
  fail: Fail,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let values = 0;
  for (const page of pages) {
    const repetition = levelSection(page.body, 0, fail);
    const definition = levelSection(page.body, 4 + repetition.byteLength, fail);
    const floatsAt = 8 + repetition.byteLength + definition.byteLength;
    if (page.numValues % dimension !== 0) fail(`a vector page has ${page.numValues} floats`);
    checkRowLevels(repetition, page.numValues, dimension, fail);
    walkBitLevels(definition, page.numValues, (value) => {
      if (value !== 1) fail("a vector float is null");
    });
    if (page.body.byteLength - floatsAt !== 4 * page.numValues) {
      fail(
        `a vector page holds ${
          page.body.byteLength - floatsAt
        } float bytes for ${page.numValues} floats`,
      );
    }
    out.push(page.body.subarray(floatsAt));
    values += page.numValues;
  }
  if (values !== rows * dimension) fail(`column "vector" has ${values} floats for ${rows} rows`);
  return out;
}

/**
 * Repetition levels of whole rows of `dimension` floats: each row is one 0
 * then `dimension − 1` ones (dimension 1: only 0s).
 */
function checkRowLevels(levels: Uint8Array, count: number, dimension: number, fail: Fail): void {
  let open = 0; // floats of the row being read; 0 between rows
  const bad = () => fail(`vector rows are not ${dimension} floats each`);
  walkBitLevels(levels, count, (value, length) => {
    if (value === 0) {
      if (open !== 0 || (dimension > 1 && length !== 1)) bad();
      open = dimension === 1 ? 0 : 1;
    } else {
      if (open === 0 || open + length > dimension) bad();
      open = (open + length) % dimension;
    }
  });
  if (open !== 0) bad();
}

/** The pages' floats as one array: a view when one aligned page holds them all, else a copy. */
function joinFloats(pages: readonly Uint8Array[], length: number): Float32Array {
  const only = pages[0];
  if (pages.length === 1 && only!.byteOffset % 4 === 0) {
    return new Float32Array(only!.buffer, only!.byteOffset, length);
  }
  const out = new Float32Array(length);
  const target = new Uint8Array(out.buffer);
  let at = 0;
  for (const page of pages) {
    target.set(page, at);
    at += page.byteLength;
  }
  return out;
}
