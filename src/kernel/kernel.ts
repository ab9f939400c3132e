/**
 * Loads the compiled kernel module once; every segment is a fresh instance of
 * it with its own linear memory (at most 4 GiB each). The memory is a shared
 * one, so a second instance — in a worker — can attach to the same segment.
 *
 * @module
 */

import type { KernelExports } from "./kernel_exports.ts";

/** Where `deno task build` writes the kernel. */
export const KERNEL_WASM_URL: URL = new URL("../../wasm-kernels/build/akidb.wasm", import.meta.url);

/** A compiled kernel module that makes instances. */
export class Kernel {
  readonly #module: WebAssembly.Module;

  private constructor(module: WebAssembly.Module) {
    this.#module = module;
  }

  /**
   * Compiles the kernel from its bytes.
   *
   * @param bytes the `.wasm` file's contents
   * @returns the kernel
   * @throws WebAssembly.CompileError when the bytes are not a valid module
   */
  static async fromBytes(bytes: Uint8Array<ArrayBuffer>): Promise<Kernel> {
    return new Kernel(await WebAssembly.compile(bytes));
  }

  /**
   * A new instance, with its own memory unless one is given. Synchronous, so a
   * segment can be made anywhere; the module is already compiled.
   *
   * @param memory a memory another instance made (see `SegmentKernel.attach`); default a new one
   * @returns the instance's exports
   */
  instantiate(memory: WebAssembly.Memory = newMemory()): KernelExports {
    const instance = new WebAssembly.Instance(this.#module, { env: { memory } });
    return instance.exports as unknown as KernelExports;
  }
}

/** Pages of the largest memory an instance may grow to: 4 GiB, the most wasm32 addresses. */
const MEMORY_PAGES_MAX = 65536;

function newMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 1, maximum: MEMORY_PAGES_MAX, shared: true });
}

let shared: Promise<Kernel> | undefined;

/**
 * Loads and compiles the kernel once per process (later calls share it).
 *
 * @param url where the `.wasm` lives; defaults to the build output
 * @returns the compiled kernel
 * @throws Error naming `deno task build` when the file is missing
 *
 * @example
 * ```ts
 * import { loadKernel } from "./kernel.ts";
 * const kernel = await loadKernel();
 * if (kernel.instantiate().memory.buffer.byteLength < 65536) throw new Error("no memory");
 * ```
 */
export function loadKernel(url: URL = KERNEL_WASM_URL): Promise<Kernel> {
  if (url !== KERNEL_WASM_URL) return readKernel(url);
  shared ??= readKernel(url);
  return shared;
}

async function readKernel(url: URL): Promise<Kernel> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(url);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot load the kernel: ${url.pathname} is missing, run "deno task build"`, {
        cause: error,
      });
    }
    throw error;
  }
  return await Kernel.fromBytes(bytes);
}
