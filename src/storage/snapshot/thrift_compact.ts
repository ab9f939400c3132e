/**
 * The Thrift compact protocol, as far as Parquet's footer and page headers
 * need it: a writer for the structs we emit and a generic, bounds-checked
 * reader that turns any struct into a map from field id to value.
 *
 * Wire format: a field header byte `(delta << 4) | type` (or `type` and a
 * zigzag varint id when the id delta is not 1..15); integers as zigzag
 * varints; binary as varint length + bytes; lists as `(size << 4) | type`
 * (or `0xf0 | type` + varint size); booleans in the field header; a struct
 * ends with a 0 byte.
 *
 * @module
 */

import { CorruptionError } from "../../errors.ts";

/** Compact-protocol type codes. */
export const ThriftType = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

/** A decoded value: integers as numbers (i64 too; snapshots stay far below 2^53). */
export type ThriftValue = number | boolean | Uint8Array | ThriftValue[] | ThriftStruct;

/** A decoded struct: field id → value. */
export type ThriftStruct = Map<number, ThriftValue>;

const encoder = new TextEncoder();

/** Builds compact-protocol bytes; structs nest with {@linkcode ThriftWriter.struct}. */
export class ThriftWriter {
  #bytes = new Uint8Array(256);
  #length = 0;
  #lastField: number[] = [0];

  /** Ends the outer struct. @returns its bytes */
  finish(): Uint8Array {
    this.#byte(0);
    return this.#bytes.slice(0, this.#length);
  }

  #reserve(count: number): void {
    if (this.#length + count <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + count));
    grown.set(this.#bytes);
    this.#bytes = grown;
  }

  #byte(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
  }

  #varint(value: bigint): void {
    while (value >= 0x80n) {
      this.#byte(Number(value & 0x7fn) | 0x80);
      value >>= 7n;
    }
    this.#byte(Number(value));
  }

  #zigzag(value: number | bigint): void {
    const v = BigInt(value);
    this.#varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }

  #fieldHeader(id: number, type: number): void {
    const last = this.#lastField[this.#lastField.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) {
      this.#byte((delta << 4) | type);
    } else {
      this.#byte(type);
      this.#zigzag(id);
    }
    this.#lastField[this.#lastField.length - 1] = id;
  }

  /** An i32 (or i16/enum, same encoding) field. */
  i32(id: number, value: number): this {
    this.#fieldHeader(id, ThriftType.I32);
    this.#zigzag(value);
    return this;
  }

  /** An i64 field. */
  i64(id: number, value: number | bigint): this {
    this.#fieldHeader(id, ThriftType.I64);
    this.#zigzag(value);
    return this;
  }

  /** A byte (i8) field. */
  i8(id: number, value: number): this {
    this.#fieldHeader(id, ThriftType.BYTE);
    this.#byte(value & 0xff);
    return this;
  }

  /** A boolean field. */
  bool(id: number, value: boolean): this {
    this.#fieldHeader(id, value ? ThriftType.TRUE : ThriftType.FALSE);
    return this;
  }

  /** A binary field. */
  binary(id: number, value: Uint8Array): this {
    this.#fieldHeader(id, ThriftType.BINARY);
    this.#binaryValue(value);
    return this;
  }

  /** A string field (UTF-8 binary). */
  string(id: number, value: string): this {
    return this.binary(id, encoder.encode(value));
  }

  #binaryValue(value: Uint8Array): void {
    this.#varint(BigInt(value.byteLength));
    this.#reserve(value.byteLength);
    this.#bytes.set(value, this.#length);
    this.#length += value.byteLength;
  }

  /** A struct field; `body` writes its fields. */
  struct(id: number, body: (writer: this) => void): this {
    this.#fieldHeader(id, ThriftType.STRUCT);
    this.#structValue(body);
    return this;
  }

  #structValue(body: (writer: this) => void): void {
    this.#lastField.push(0);
    body(this);
    this.#byte(0);
    this.#lastField.pop();
  }

  #listHeader(id: number, type: number, size: number): void {
    this.#fieldHeader(id, ThriftType.LIST);
    if (size < 15) {
      this.#byte((size << 4) | type);
    } else {
      this.#byte(0xf0 | type);
      this.#varint(BigInt(size));
    }
  }

  /** A list of i32 (enums). */
  i32List(id: number, values: readonly number[]): this {
    this.#listHeader(id, ThriftType.I32, values.length);
    for (const value of values) this.#zigzag(value);
    return this;
  }

  /** A list of strings. */
  stringList(id: number, values: readonly string[]): this {
    this.#listHeader(id, ThriftType.BINARY, values.length);
    for (const value of values) this.#binaryValue(encoder.encode(value));
    return this;
  }

  /** A list of structs; `body` writes the fields of one item. */
  structList<T>(id: number, items: readonly T[], body: (writer: this, item: T) => void): this {
    this.#listHeader(id, ThriftType.STRUCT, items.length);
    for (const item of items) this.#structValue((writer) => body(writer, item));
    return this;
  }
}

/** Reads compact-protocol values front to back; every read is bounds-checked. */
class ThriftReader {
  offset: number;
  readonly #bytes: Uint8Array;
  readonly #end: number;
  #depth = 0;

  constructor(bytes: Uint8Array, offset: number, end: number) {
    this.#bytes = bytes;
    this.offset = offset;
    this.#end = end;
  }

  #fail(reason: string): never {
    throw new CorruptionError(`Cannot read Thrift at byte ${this.offset}: ${reason}`);
  }

  #byte(): number {
    if (this.offset >= this.#end) this.#fail("it ends early");
    return this.#bytes[this.offset++]!;
  }

  #varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.#byte();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) this.#fail("an integer beyond 2^53");
        return result;
      }
      scale *= 128;
    }
    return this.#fail("a varint longer than 10 bytes");
  }

  #zigzag(): number {
    const raw = this.#varint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  #value(type: number): ThriftValue {
    switch (type) {
      case ThriftType.TRUE:
        return true;
      case ThriftType.FALSE:
        return false;
      case ThriftType.BYTE:
        return (this.#byte() << 24) >> 24;
      case ThriftType.I16:
      case ThriftType.I32:
      case ThriftType.I64:
        return this.#zigzag();
      case ThriftType.DOUBLE: {
        if (this.offset + 8 > this.#end) this.#fail("it ends early");
        const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset + this.offset, 8);
        this.offset += 8;
        return view.getFloat64(0, true);
      }
      case ThriftType.BINARY: {
        const length = this.#varint();
        if (this.offset + length > this.#end) this.#fail(`binary of ${length} bytes ends early`);
        const out = this.#bytes.subarray(this.offset, this.offset + length);
        this.offset += length;
        return out;
      }
      case ThriftType.LIST:
      case ThriftType.SET:
        return this.#list();
      case ThriftType.STRUCT:
        return this.struct();
      default:
        return this.#fail(`type ${type} is not supported`);
    }
  }

  #list(): ThriftValue[] {
    const header = this.#byte();
    const size = (header >> 4) === 15 ? this.#varint() : header >> 4;
    const type = header & 0x0f;
    if (size > this.#end - this.offset) this.#fail(`a list of ${size} items cannot fit`);
    const out: ThriftValue[] = new Array(size);
    for (let i = 0; i < size; i++) {
      // In lists, booleans are one byte each (1 true, else false).
      out[i] = type === ThriftType.TRUE || type === ThriftType.FALSE
        ? this.#byte() === 1
        : this.#value(type);
    }
    return out;
  }

  struct(): ThriftStruct {
    if (++this.#depth > 32) this.#fail("structs nest too deep");
    const out: ThriftStruct = new Map();
    let last = 0;
    for (;;) {
      const header = this.#byte();
      if (header === 0) break;
      const delta = header >> 4;
      const type = header & 0x0f;
      const id = delta === 0 ? this.#zigzag() : last + delta;
      out.set(id, this.#value(type));
      last = id;
    }
    this.#depth--;
    return out;
  }
}

/**
 * Reads one struct.
 *
 * @param bytes the buffer
 * @param offset where the struct starts
 * @param end where the readable bytes end (default: the buffer's end)
 * @returns the struct and the offset just past it
 * @throws CorruptionError when the bytes are not a well-formed struct within bounds
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readThriftStruct, ThriftWriter } from "./thrift_compact.ts";
 * const bytes = new ThriftWriter().i32(1, -3).string(20, "x").finish();
 * const { value } = readThriftStruct(bytes, 0);
 * assert.equal(value.get(1), -3);
 * assert.deepEqual(value.get(20), new Uint8Array([120]));
 * ```
 */
export function readThriftStruct(
  bytes: Uint8Array,
  offset: number,
  end: number = bytes.byteLength,
): { value: ThriftStruct; end: number } {
  const reader = new ThriftReader(bytes, offset, end);
  const value = reader.struct();
  return { value, end: reader.offset };
}
