/**
 * Little-endian byte helpers shared by the index codecs (private to src/index).
 *
 * @module
 */

import { CorruptionError } from "../errors.ts";

export { concatBytes } from "../bytes.ts";

/** A u32, little-endian. */
export function u32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/** Reads a byte array front to back; every read is bounds-checked. */
export class ByteReader {
  offset = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;

  /**
   * @param bytes what to read
   * @param what names the thing in messages, e.g. `index`
   */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  /** The next `length` bytes (a view, not a copy). @throws CorruptionError past the end */
  take(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0 || this.offset + length > this.#bytes.byteLength) {
      throw new CorruptionError(
        `Cannot load ${this.#what}: needs ${length} bytes at offset ${this.offset}, has ${
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

  /** @throws CorruptionError when bytes are left over */
  expectEnd(): void {
    if (this.offset !== this.#bytes.byteLength) {
      throw new CorruptionError(
        `Cannot load ${this.#what}: ${this.#bytes.byteLength - this.offset} trailing bytes`,
      );
    }
  }
}
