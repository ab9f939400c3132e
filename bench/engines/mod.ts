/**
 * The engines `bench/ann.ts` can measure, loaded on demand so that one engine's missing module
 * (or native addon) does not stop the others.
 *
 * @module
 */

import type { AnnBuildParams, AnnEngine } from "./ann_engine.ts";

export type { AnnBuildParams, AnnEngine, AnnMetric } from "./ann_engine.ts";

/** Names accepted by `--engines`, in default order. */
export const ENGINE_NAMES = ["akidb", "hnswlib-node"] as const;

/** One of {@linkcode ENGINE_NAMES}. */
export type EngineName = typeof ENGINE_NAMES[number];

/**
 * Whether `name` is a known engine.
 * @param name A candidate name.
 * @returns True for a member of {@linkcode ENGINE_NAMES}.
 * @example
 * ```ts
 * import { isEngineName } from "./mod.ts";
 * if (!isEngineName("akidb") || isEngineName("faiss")) throw new Error();
 * ```
 */
export function isEngineName(name: string): name is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(name);
}

/**
 * Loads an engine's module and creates an empty engine.
 *
 * @param name Which engine.
 * @param params Index parameters.
 * @returns The engine, ready for `build`.
 * @throws {Error} When the engine's module cannot be loaded; the cause is attached.
 * @example
 * ```ts ignore
 * const engine = await createEngine("hnswlib-node", { dim: 128, metric: "l2", m: 16, efConstruction: 200, seed: 42 });
 * ```
 */
export async function createEngine(name: EngineName, params: AnnBuildParams): Promise<AnnEngine> {
  try {
    if (name === "akidb") {
      const { AkidbEngine } = await import("./akidb_engine.ts");
      return await AkidbEngine.create(params) as AnnEngine;
    }
    const { HnswlibEngine } = await import("./hnswlib_engine.ts");
    return new HnswlibEngine(params) as AnnEngine;
  } catch (error) {
    const hint = name === "akidb"
      ? "is src/index/mod.ts there and the kernel built (deno task build)?"
      : "hnswlib-node needs npm ci and --allow-ffi --allow-env --allow-sys";
    throw new Error(`Cannot load engine "${name}": ${error} (${hint})`, { cause: error });
  }
}
