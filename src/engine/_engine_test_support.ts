/**
 * Helpers of the engine tests: a temporary data directory, a quiet engine.
 *
 * @module
 */

import { loadConfig } from "../config/mod.ts";
import { type Kernel, loadKernel } from "../kernel/mod.ts";
import { createLogger } from "../obs/logger.ts";
import type { FileIO } from "../storage/file_io.ts";
import { type AkiEngine, createEngine } from "./mod.ts";

let kernel: Kernel | undefined;

/** The kernel, loaded once per test process. */
export async function testKernel(): Promise<Kernel> {
  kernel ??= await loadKernel();
  return kernel;
}

/** Log lines the engine wrote, for assertions. */
export const logLines: string[] = [];

/**
 * Opens an engine over `dataDir`.
 *
 * @param dataDir the data directory
 * @param fileIO the file system of the collections (default: disk)
 * @param args more CLI flags
 * @returns the engine, recovered
 */
export async function openEngine(
  dataDir: string,
  fileIO?: FileIO,
  args: readonly string[] = [],
): Promise<AkiEngine> {
  return await createEngine({
    config: loadConfig(["--data-dir", dataDir, ...args], {}),
    kernel: await testKernel(),
    logger: createLogger({ level: "warn", sink: (line) => void logLines.push(line) }),
    ...(fileIO === undefined ? {} : { fileIO }),
  });
}

/**
 * Runs `body` with a fresh temporary data directory, removed afterwards.
 *
 * @param body the test body
 */
export async function withDataDir(body: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-engine-" });
  try {
    await body(dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}
