/**
 * The engine the observability benchmark measures: a fresh engine in a
 * temporary data directory, and the seeded vectors every variant searches.
 * One place for the setup the child processes, the in-process comparison and
 * the per-component costs share.
 *
 * @module
 */

import { type Config, loadConfig } from "../../src/config/mod.ts";
import {
  type AkiEngine,
  createEngine,
  type Engine,
  type PointInput,
} from "../../src/engine/mod.ts";
import { loadKernel } from "../../src/kernel/mod.ts";
import { createLogger, type Logger } from "../../src/obs/logger.ts";
import type { WalMetricsObserver } from "../../src/obs/observers.ts";
import { seededVectors } from "../lib/vectors.ts";
import type { Settings } from "./variants.ts";

/** Points per upsert while loading. */
const BATCH_POINTS = 1000;
/** Seed of the collection's vectors (the queries use another). */
const VECTOR_SEED = 7;

/** An engine over a temporary data directory, with the config and logger it was built with. */
export interface TempEngine {
  readonly engine: AkiEngine;
  readonly config: Config;
  readonly logger: Logger;
  /** Closes the engine and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Opens an engine in a new temporary directory, logging errors only.
 *
 * @param prefix Name prefix of the temporary directory.
 * @param walObserver WAL hooks for the metrics, if any.
 * @returns The engine; `close()` removes the directory.
 */
export async function openTempEngine(
  prefix: string,
  walObserver?: WalMetricsObserver,
): Promise<TempEngine> {
  const dataDir = await Deno.makeTempDir({ prefix });
  const config = loadConfig(["--data-dir", dataDir, "--log-level", "error"], {});
  const logger = createLogger({ level: "error" });
  const engine = await createEngine({
    config,
    kernel: await loadKernel(),
    logger,
    ...(walObserver === undefined ? {} : { walObserver }),
  });
  return {
    engine,
    config,
    logger,
    async close() {
      await engine.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/**
 * Creates the l2 collection `bench` and upserts `settings.vectors` seeded
 * vectors into it, in batches of {@linkcode BATCH_POINTS}.
 *
 * @param engine Where to load (bare or instrumented).
 * @param settings How many vectors, of what dimension.
 */
export async function loadBenchCollection(
  engine: Pick<Engine, "createCollection" | "upsert">,
  settings: Settings,
): Promise<void> {
  const { vectors, dimension } = settings;
  await engine.createCollection({ name: "bench", dimension, metric: "l2" });
  const data = seededVectors(vectors, dimension, VECTOR_SEED);
  for (let first = 0; first < vectors; first += BATCH_POINTS) {
    const points: PointInput[] = [];
    for (let i = first; i < Math.min(first + BATCH_POINTS, vectors); i++) {
      points.push({ id: i, vector: data.slice(i * dimension, (i + 1) * dimension) });
    }
    await engine.upsert("bench", points);
  }
}
