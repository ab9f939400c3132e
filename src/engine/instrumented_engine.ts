/**
 * Metrics and spans around the engine's public calls, without touching the
 * engine itself: {@linkcode instrumentEngine} returns a proxy that times
 * `search` (by tier), counts `upsert`ed points, times `createSnapshot` and
 * `restoreSnapshot`, and opens a child span for each in a sampled request.
 * Every other call passes straight through. {@linkcode engineMetricsSource}
 * feeds the scrape-time gauges (vectors, tiers, WAL size, WASM memory).
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import type { Metrics, MetricsSource } from "../obs/metrics.ts";
import { withSpan } from "../obs/tracing.ts";
import type { Engine, PointInput, SearchRequest } from "./engine_types.ts";

/**
 * Wraps an engine so its calls are measured.
 *
 * @param engine The engine (its other methods are forwarded, bound to it).
 * @param metrics The registry's handles.
 * @returns A proxy with the engine's type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "../obs/metrics.ts";
 * import { instrumentEngine } from "./instrumented_engine.ts";
 * import type { Engine } from "./engine_types.ts";
 * const metrics = createMetrics({ defaultMetrics: false });
 * const fake = {
 *   getCollection: () => ({ tier: "hot" }),
 *   search: () => Promise.resolve([]),
 *   upsert: () => Promise.resolve({ upserted: 2, lsn: 1 }),
 * } as unknown as Engine;
 * const engine = instrumentEngine(fake, metrics);
 * await engine.upsert("c", []);
 * await engine.search("c", { vector: new Float32Array(2), k: 1 });
 * const text = await metrics.registry.metrics();
 * assert.match(text, /akidb_vector_upserts_total 2/);
 * assert.match(text, /akidb_vector_search_duration_seconds_count\{tier="hot"\} 1/);
 * ```
 */
export function instrumentEngine<E extends Engine>(engine: E, metrics: Metrics): E {
  const overrides: Partial<Engine> = {
    search: (c: string, request: SearchRequest) => timedSearch(engine, metrics, c, request),
    upsert: (c: string, points: readonly PointInput[]) => countedUpsert(engine, metrics, c, points),
  };
  if (engine.createSnapshot !== undefined) {
    const create = engine.createSnapshot.bind(engine);
    overrides.createSnapshot = (c: string) =>
      tracedSnapshot("create", c, async (span) => {
        const manifest = await create(c);
        span?.setAttributes({
          "akidb.snapshot_id": manifest.snapshot_id,
          "akidb.vector_count": manifest.vector_count,
          "akidb.bytes": manifest.files["vectors.parquet"].size_bytes +
            manifest.files["graph.bin"].size_bytes,
        });
        return manifest;
      });
  }
  if (engine.restoreSnapshot !== undefined) {
    const restore = engine.restoreSnapshot.bind(engine);
    overrides.restoreSnapshot = (c: string, snapshotId: string) =>
      tracedSnapshot("restore", c, async (span) => {
        const outcome = await restore(c, snapshotId);
        span?.setAttributes({
          "akidb.snapshot_id": outcome.restored.snapshot_id,
          "akidb.vector_count": outcome.restored.vector_count,
        });
        return outcome;
      });
  }
  // Bound once per method, not per call: the HTTP path reads engine methods on every request.
  const bound = new Map<PropertyKey, { readonly of: unknown; readonly fn: unknown }>();
  return new Proxy(engine, {
    get(target, property, receiver) {
      const own = (overrides as Record<PropertyKey, unknown>)[property];
      if (own !== undefined) return own;
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      const cached = bound.get(property);
      if (cached !== undefined && cached.of === value) return cached.fn;
      const fn = value.bind(target);
      bound.set(property, { of: value, fn });
      return fn;
    },
  });
}

function timedSearch(
  engine: Engine,
  metrics: Metrics,
  c: string,
  request: SearchRequest,
): Promise<ReturnType<Engine["search"]> extends Promise<infer R> ? R : never> {
  let tier = "unknown";
  try {
    tier = engine.getCollection(c).tier; // the tier the query found, before any promotion
  } catch {
    // unknown collection: the search below throws the proper error
  }
  const attributes = {
    "akidb.collection": c,
    "akidb.k": request.k,
    "akidb.ef": request.efSearch ?? 0,
    "akidb.tier": tier,
    "akidb.filtered": request.filter !== undefined,
  };
  return withSpan("akidb.search", attributes, async (span) => {
    const startMs = performance.now();
    const results = await engine.search(c, request);
    metrics.searchDuration.observe({ tier }, (performance.now() - startMs) / 1000);
    span?.setAttribute("akidb.result_count", results.length);
    return results;
  });
}

function countedUpsert(
  engine: Engine,
  metrics: Metrics,
  c: string,
  points: readonly PointInput[],
): Promise<{ upserted: number; lsn: number }> {
  const attributes = { "akidb.collection": c, "akidb.points": points.length };
  return withSpan("akidb.upsert", attributes, async (span) => {
    const outcome = await engine.upsert(c, points);
    metrics.upserts.inc(outcome.upserted);
    if (span !== undefined) {
      let bytes = 0;
      for (const point of points) bytes += point.vector.byteLength;
      span.setAttributes({ "akidb.bytes": bytes, "akidb.lsn": outcome.lsn });
    }
    return outcome;
  });
}

/** A span around a snapshot call; its duration metric comes from the engine's snapshot observer. */
function tracedSnapshot<T>(
  operation: "create" | "restore",
  c: string,
  work: Parameters<typeof withSpan<T>>[2],
): Promise<T> {
  return withSpan(`akidb.snapshot.${operation}`, { "akidb.collection": c }, work);
}

/** The parts of the engine the scrape-time gauges read. */
export interface MeasurableEngine {
  listCollections: Engine["listCollections"];
  /** A hot collection's in-memory state; throws when it is not loaded. */
  collection(c: string): {
    readonly memoryBytes: number;
    readonly walSizeBytes: number;
    readonly pendingIndexCount: number;
    readonly graphTombstones: number;
  };
}

/**
 * The source of the scrape-time gauges: per collection its points, tier,
 * index memory and WAL bytes; the data directory; the hot-tier budget.
 *
 * @param engine The engine.
 * @param config The loaded configuration.
 * @returns A source for `metrics.bindSource`.
 */
export function engineMetricsSource(
  engine: MeasurableEngine,
  config: Pick<Config, "storage" | "tier">,
): MetricsSource {
  return {
    dataDir: config.storage.dataDir,
    hotMemoryBudgetBytes: config.tier.hotMemoryBudgetBytes,
    collections() {
      return engine.listCollections().map((info) => {
        let memoryBytes = 0;
        let walSizeBytes = 0;
        let pendingIndexPoints = 0;
        let graphTombstones = 0;
        if (info.tier === "hot") {
          try {
            const collection = engine.collection(info.collectionId);
            memoryBytes = collection.memoryBytes;
            walSizeBytes = collection.walSizeBytes;
            pendingIndexPoints = collection.pendingIndexCount;
            graphTombstones = collection.graphTombstones;
          } catch {
            // demoted or closed since the listing
          }
        }
        return {
          name: info.name,
          tier: info.tier,
          vectorCount: info.vectorCount,
          memoryBytes,
          walSizeBytes,
          pendingIndexPoints,
          graphTombstones,
        };
      });
    },
  };
}
