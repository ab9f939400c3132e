/**
 * Reading Arrow arrays that `parquet-wasm` exposes through the Arrow C Data
 * Interface (`Table.intoFFI()`), straight from its WebAssembly memory: no IPC
 * serialization, and the caller copies out only what it keeps. Only what
 * `vectors.parquet` needs: struct, utf8, int64, float32, fixed-size list.
 *
 * Layout (wasm32, little-endian; pointers are 4 bytes):
 * `ArrowSchema { format*, name*, metadata*, flags: i64, n_children: i64, children**, dictionary*, release, private_data }`,
 * `ArrowArray { length, null_count, offset, n_buffers, n_children: i64 ×5, buffers**, children**, dictionary*, release, private_data }`.
 *
 * @module
 */

const decoder = new TextDecoder();

/** A column of the C schema: its format string, name and children. */
export interface FfiField {
  readonly format: string;
  readonly name: string;
  readonly children: readonly FfiField[];
}

/** An `ArrowArray` in wasm memory, with its children resolved. */
export interface FfiArray {
  readonly length: number;
  readonly nullCount: number;
  readonly offset: number;
  /** Buffer addresses (0 for an absent validity bitmap). */
  readonly buffers: readonly number[];
  readonly children: readonly FfiArray[];
}

/** A view of wasm memory that reads C structs. */
export class FfiMemory {
  readonly #buffer: ArrayBuffer;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;

  /** @param buffer the wasm memory's buffer, taken after the arrays were made */
  constructor(buffer: ArrayBuffer) {
    this.#buffer = buffer;
    this.#view = new DataView(buffer);
    this.#bytes = new Uint8Array(buffer);
  }

  #ptr(addr: number): number {
    return this.#view.getUint32(addr, true);
  }

  #i64(addr: number): number {
    return Number(this.#view.getBigInt64(addr, true));
  }

  #cString(addr: number): string {
    if (addr === 0) return "";
    const end = this.#bytes.indexOf(0, addr);
    return decoder.decode(this.#bytes.subarray(addr, end));
  }

  /** Reads an `ArrowSchema` and its children. */
  schema(addr: number): FfiField {
    const count = this.#i64(addr + 24);
    const children = this.#ptr(addr + 32);
    return {
      format: this.#cString(this.#ptr(addr)),
      name: this.#cString(this.#ptr(addr + 4)),
      children: Array.from({ length: count }, (_, i) => this.schema(this.#ptr(children + 4 * i))),
    };
  }

  /** Reads an `ArrowArray` and its children. */
  array(addr: number): FfiArray {
    const nBuffers = this.#i64(addr + 24);
    const nChildren = this.#i64(addr + 32);
    const buffers = this.#ptr(addr + 40);
    const children = this.#ptr(addr + 44);
    return {
      length: this.#i64(addr),
      nullCount: this.#i64(addr + 8),
      offset: this.#i64(addr + 16),
      buffers: Array.from({ length: nBuffers }, (_, i) => this.#ptr(buffers + 4 * i)),
      children: Array.from(
        { length: nChildren },
        (_, i) => this.array(this.#ptr(children + 4 * i)),
      ),
    };
  }

  /** Whether entry `i` of an array is valid (not null). */
  valid(array: FfiArray, i: number): boolean {
    if (array.nullCount === 0 || array.buffers[0] === 0) return true;
    const bit = array.offset + i;
    return (this.#bytes[array.buffers[0]! + (bit >> 3)]! & (1 << (bit & 7))) !== 0;
  }

  /** The strings of a utf8 array (null for a null entry). */
  utf8(array: FfiArray): (string | null)[] {
    const offsets = new Int32Array(
      this.#buffer,
      array.buffers[1]!,
      array.offset + array.length + 1,
    );
    const data = array.buffers[2]!;
    const first = offsets[array.offset]!;
    const last = offsets[array.offset + array.length]!;
    const all = decoder.decode(this.#bytes.subarray(data + first, data + last));
    const ascii = all.length === last - first; // multi-byte UTF-8 makes the text shorter
    const out: (string | null)[] = new Array(array.length);
    for (let i = 0; i < array.length; i++) {
      if (!this.valid(array, i)) {
        out[i] = null;
        continue;
      }
      const start = offsets[array.offset + i]!;
      const end = offsets[array.offset + i + 1]!;
      out[i] = ascii
        ? all.slice(start - first, end - first)
        : decoder.decode(this.#bytes.subarray(data + start, data + end));
    }
    return out;
  }

  /** The values of an int64 array (null for a null entry). */
  int64(array: FfiArray): (bigint | null)[] {
    const values = new BigInt64Array(this.#buffer, array.buffers[1]!, array.offset + array.length);
    const out: (bigint | null)[] = new Array(array.length);
    for (let i = 0; i < array.length; i++) {
      out[i] = this.valid(array, i) ? values[array.offset + i]! : null;
    }
    return out;
  }

  /** A view (not a copy) of `length` floats of a float32 array from entry `from`. */
  float32(array: FfiArray, from: number, length: number): Float32Array {
    return new Float32Array(this.#buffer, array.buffers[1]! + 4 * (array.offset + from), length);
  }
}
