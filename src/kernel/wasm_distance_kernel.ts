/**
 * {@linkcode DistanceKernel} over the WASM SIMD module: one instance in raw
 * mode; inputs are copied into its scratch memory and each operation is one
 * call into WASM.
 *
 * @module
 */

import type { DistanceKernel, TopK } from "./distance_kernel.ts";
import type { Kernel } from "./kernel.ts";
import { type KernelExports, readEntries } from "./kernel_exports.ts";
import { type Metric, METRIC_CODES } from "./metric.ts";

/** The WASM SIMD distance kernel. */
export class WasmDistanceKernel implements DistanceKernel {
  readonly #wasm: KernelExports;

  /** @param kernel the compiled kernel; this makes its own instance */
  constructor(kernel: Kernel) {
    this.#wasm = kernel.instantiate();
  }

  l2Squared(a: Float32Array, b: Float32Array): number {
    return this.#pair(a, b, (pa, pb) => this.#wasm.l2sq_f32(pa, pb, a.length));
  }

  dot(a: Float32Array, b: Float32Array): number {
    return this.#pair(a, b, (pa, pb) => this.#wasm.dot_f32(pa, pb, a.length));
  }

  cosineDistance(a: Float32Array, b: Float32Array): number {
    return this.#pair(a, b, (pa, pb) => this.#wasm.cosine_distance_f32(pa, pb, a.length));
  }

  normalize(vector: Float32Array): Float32Array | undefined {
    this.#wasm.raw_reset();
    const at = this.#place(vector);
    const ok = this.#wasm.normalize_f32(at, vector.length) === 1;
    return ok ? new Float32Array(this.#wasm.memory.buffer, at, vector.length).slice() : undefined;
  }

  scoreBatch(metric: Metric, query: Float32Array, rows: Float32Array): Float32Array {
    const count = rows.length / query.length;
    this.#wasm.raw_reset();
    const q = this.#place(query);
    const r = this.#place(rows);
    const out = this.#alloc(count * 4);
    this.#wasm.score_batch_f32(METRIC_CODES[metric], q, r, count, query.length, out);
    return new Float32Array(this.#wasm.memory.buffer, out, count).slice();
  }

  topK(metric: Metric, query: Float32Array, rows: Float32Array, k: number): TopK {
    const count = rows.length / query.length;
    this.#wasm.raw_reset();
    const q = this.#place(query);
    const r = this.#place(rows);
    const out = this.#alloc(k * 8);
    const found = this.#wasm.top_k_f32(METRIC_CODES[metric], q, r, count, query.length, k, out);
    const { ids: indexes, distances } = readEntries(this.#wasm.memory, out, found);
    return { indexes, distances };
  }

  #pair(a: Float32Array, b: Float32Array, score: (pa: number, pb: number) => number): number {
    if (a.length !== b.length) {
      throw new RangeError(`Cannot score vectors: dimensions are ${a.length} and ${b.length}`);
    }
    this.#wasm.raw_reset();
    return score(this.#place(a), this.#place(b));
  }

  #alloc(bytes: number): number {
    const at = this.#wasm.raw_alloc(bytes) >>> 0;
    if (at === 0) throw new RangeError(`Cannot allocate ${bytes} bytes of kernel scratch`);
    return at;
  }

  #place(values: Float32Array): number {
    const at = this.#alloc(values.byteLength);
    new Float32Array(this.#wasm.memory.buffer, at, values.length).set(values);
    return at;
  }
}
