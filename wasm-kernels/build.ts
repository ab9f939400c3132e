/**
 * Builds the AssemblyScript kernel into `wasm-kernels/build/akidb.wasm`.
 *
 * `deno task build` always rebuilds (`--force`); `start`, `test` and the
 * benchmarks call it without `--force`, and it rebuilds only when the `.wasm`
 * is missing or older than any kernel source or the compiler config.
 *
 * @module
 */

import asc from "assemblyscript/asc";

const root = new URL("./", import.meta.url);
const outFile = new URL("build/akidb.wasm", root);
const configFile = new URL("asconfig.json", root);
const sourceDir = new URL("assembly/", root);

function modifiedMs(url: URL): number {
  try {
    return Deno.statSync(url).mtime?.getTime() ?? 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return -1;
    throw error;
  }
}

function newestInputMs(): number {
  let newest = modifiedMs(configFile);
  for (const entry of Deno.readDirSync(sourceDir)) {
    if (entry.isFile) newest = Math.max(newest, modifiedMs(new URL(entry.name, sourceDir)));
  }
  return newest;
}

/**
 * Compiles the kernel when forced, missing or stale.
 *
 * @param force rebuild even when the output is up to date
 * @returns true when it compiled, false when the output was already fresh
 * @throws Error when the compiler reports errors
 */
export async function buildKernel(force: boolean): Promise<boolean> {
  const outputMs = modifiedMs(outFile);
  if (!force && outputMs >= 0 && outputMs >= newestInputMs()) return false;
  const cwd = Deno.cwd();
  Deno.chdir(root);
  try {
    const { error, stderr } = await asc.main(["assembly/index.ts", "--config", "asconfig.json"]);
    if (error) throw new Error(`Cannot build the kernel: ${error.message}\n${stderr.toString()}`);
  } finally {
    Deno.chdir(cwd);
  }
  return true;
}

if (import.meta.main) {
  const built = await buildKernel(Deno.args.includes("--force"));
  const message = built ? "kernel built" : "kernel up to date";
  await Deno.stderr.write(new TextEncoder().encode(`${message}: ${outFile.pathname}\n`));
}
