/**
 * Helpers of the tier and S3 tests: an engine over a temporary data
 * directory, optionally wired to a real S3 server (s3rver or MinIO), with
 * tier settings from a TOML file, plus a few dataset and comparison helpers.
 *
 * @module
 */

import { loadConfig } from "../../src/config/mod.ts";
import { type AkiEngine, createEngine } from "../../src/engine/mod.ts";
import { type Kernel, loadKernel } from "../../src/kernel/mod.ts";
import { createLogger } from "../../src/obs/logger.ts";
import type { PointInput } from "../../src/engine/mod.ts";
import { randomVector } from "./seeded_random.ts";

let kernel: Kernel | undefined;

/** Where the engine's S3 is. */
export interface S3Target {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Tier and snapshot settings of a test engine (TOML keys of `[tier]`). */
export interface TierSettings {
  readonly hot_to_warm_idle_ms?: number;
  readonly warm_to_cold_idle_ms?: number;
  readonly check_interval_ms?: number;
  readonly hot_memory_budget_bytes?: number;
}

/** Tiers off unless a test turns them on; the worker effectively idle. */
const QUIET_TIERS: Required<TierSettings> = {
  hot_to_warm_idle_ms: 0,
  warm_to_cold_idle_ms: 0,
  check_interval_ms: 3_600_000,
  hot_memory_budget_bytes: 0,
};

/** Log lines of every test engine, for a failing test to print. */
export const tierLogLines: string[] = [];

/**
 * Opens an engine over `dataDir`.
 *
 * @param dataDir the data directory
 * @param options S3 target (none = S3 off), tier settings, S3 prefix
 * @returns the engine, recovered
 */
export async function openTierEngine(
  dataDir: string,
  options: { s3?: S3Target; tier?: TierSettings; prefix?: string; now?: () => number } = {},
): Promise<AkiEngine> {
  const tier = { ...QUIET_TIERS, ...options.tier };
  const toml = `${dataDir}/akidb.toml`;
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.writeTextFile(
    toml,
    "[wal]\nsegment_size_bytes = 1048576\n[tier]\n" +
      Object.entries(tier).map(([key, value]) => `${key} = ${value}\n`).join(""),
  );
  const env: Record<string, string> = {};
  if (options.s3 !== undefined) {
    env.AKIDB_S3_ENDPOINT = options.s3.endpoint;
    env.AKIDB_S3_BUCKET = options.s3.bucket;
    env.AKIDB_S3_ACCESS_KEY_ID = options.s3.accessKeyId;
    env.AKIDB_S3_SECRET_ACCESS_KEY = options.s3.secretAccessKey;
    env.AKIDB_S3_PREFIX = options.prefix ?? `t${crypto.randomUUID().slice(0, 8)}`;
  }
  kernel ??= await loadKernel();
  return await createEngine({
    config: loadConfig(["--data-dir", dataDir, "--config", toml], env),
    kernel,
    logger: createLogger({ level: "warn", sink: (line) => void tierLogLines.push(line) }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}

/**
 * Runs `body` with a fresh temporary directory, removed afterwards.
 *
 * @param body the test body
 */
export async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "akidb-tier-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}

/**
 * Seeded points with metadata.
 *
 * @param random the generator
 * @param count how many
 * @param dimension their dimension
 * @param prefix id prefix (ids are `${prefix}${i}`, every third an integer)
 * @returns the points
 */
export function makePoints(
  random: () => number,
  count: number,
  dimension: number,
  prefix = "p",
): PointInput[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i % 3 === 0 ? i : `${prefix}${i}`,
    vector: randomVector(random, dimension),
    metadata: { i, group: i % 7, tag: `t${i % 5}` },
  }));
}

/**
 * Writes points in batches.
 *
 * @param engine the engine
 * @param c the collection
 * @param points the points
 * @param batchSize points per request
 */
export async function upsertAll(
  engine: AkiEngine,
  c: string,
  points: readonly PointInput[],
  batchSize = 1000,
): Promise<void> {
  for (let i = 0; i < points.length; i += batchSize) {
    await engine.upsert(c, points.slice(i, i + batchSize));
  }
}

/**
 * Runs the same queries and returns ids, scores and metadata, for comparison.
 *
 * @param engine the engine
 * @param c the collection
 * @param queries query vectors
 * @param k results per query
 * @returns one array of results per query
 */
export async function searchAll(
  engine: AkiEngine,
  c: string,
  queries: readonly Float32Array[],
  k = 10,
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const vector of queries) {
    const hits = await engine.search(c, { vector, k });
    out.push(hits.map((hit) => [hit.id, hit.score, hit.metadata]));
  }
  return out;
}

/**
 * Files under a directory, recursively, relative paths with sizes (absent dir → empty).
 *
 * @param dir the directory
 * @returns path → size
 */
export async function filesUnder(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (path: string, rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(path));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const p = `${path}/${entry.name}`;
      const r = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory) await walk(p, r);
      else out.set(r, (await Deno.stat(p)).size);
    }
  };
  await walk(dir, "");
  return out;
}
