/**
 * AkiDB's Prometheus metrics: one registry, every metric DESIGN.md names
 * (dashboards and alert rules use exactly these), plus the default process
 * metrics. Modules get typed handles from {@linkcode createMetrics} and update
 * them where the work happens; `/metrics` renders the registry.
 *
 * Histogram buckets follow the real latency ranges: searches and WAL appends
 * are sub-millisecond to tens of milliseconds, fsyncs from 50 µs (write-back
 * cache) to a second (a struggling disk), snapshots and S3 calls up to minutes.
 *
 * @module
 */

import { statfs } from "node:fs/promises";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Buckets for work measured in tens of microseconds to a second (search, WAL). */
export const FAST_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
]);

/** Buckets for HTTP requests: a millisecond to ten seconds. */
export const HTTP_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
]);

/** Buckets for snapshots and object-store calls: ten milliseconds to ten minutes. */
export const SLOW_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.01,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
  300,
  600,
]);

/** The tiers a collection can be in (`akidb_collection_tier{tier}`). */
export const TIERS: readonly ["hot", "warm", "cold"] = ["hot", "warm", "cold"];

/** The object-store operations (`ObjectStoreOperation` of `src/storage/objectstore`). */
export const S3_OPERATIONS: readonly string[] = [
  "put",
  "put_file",
  "get",
  "get_to_file",
  "head",
  "delete",
  "list",
];

/** The tier moves the tier manager makes (`akidb_tier_transitions_total{from,to}`). */
export const TIER_TRANSITIONS: readonly (readonly [string, string])[] = [
  ["hot", "warm"],
  ["warm", "cold"],
  ["hot", "cold"],
  ["warm", "hot"],
  ["cold", "hot"],
];

/** One collection as a scrape sees it. */
export interface CollectionSample {
  readonly name: string;
  readonly tier: string;
  readonly vectorCount: number;
  /** WASM linear memory held by its index (0 when not loaded). */
  readonly memoryBytes: number;
  /** Bytes of its WAL segments on disk. */
  readonly walSizeBytes: number;
  /** Acknowledged points not yet in the graph (searched exactly meanwhile). */
  readonly pendingIndexPoints: number;
  /** Deleted or replaced points still in the graph until it is compacted. */
  readonly graphTombstones: number;
}

/**
 * What the scrape-time gauges read: they are computed when `/metrics` is
 * scraped (prom-client `collect`), never on the write path.
 */
export interface MetricsSource {
  /** The open collections; called once per gauge per scrape, so it must be cheap. */
  collections(): readonly CollectionSample[];
  /** The data directory whose file system `akidb_disk_*_bytes` report. */
  readonly dataDir: string;
  /** `tier.hot_memory_budget_bytes` (0 = unlimited). */
  readonly hotMemoryBudgetBytes: number;
}

/** Every AkiDB metric, typed by its labels. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<"method" | "route" | "status">;
  readonly httpRequestDuration: Histogram<"method" | "route">;
  readonly searchDuration: Histogram<"tier">;
  readonly upserts: Counter<string>;
  readonly walAppendDuration: Histogram<string>;
  readonly walFsyncDuration: Histogram<string>;
  readonly walSizeBytes: Gauge<string>;
  readonly snapshotDuration: Histogram<"operation">;
  readonly s3Operations: Counter<"operation" | "status">;
  readonly s3OperationDuration: Histogram<"operation">;
  readonly circuitBreakerState: Gauge<"service">;
  readonly dlqSize: Gauge<string>;
  readonly collectionTier: Gauge<"collection" | "tier">;
  readonly tierTransitions: Counter<"from" | "to">;
  readonly collectionVectors: Gauge<"collection">;
  readonly indexPendingPoints: Gauge<"collection">;
  readonly indexTombstones: Gauge<"collection">;
  readonly memoryBytes: Gauge<"component">;
  readonly hotMemoryBudgetBytes: Gauge<string>;
  readonly diskFreeBytes: Gauge<string>;
  readonly diskTotalBytes: Gauge<string>;
  /**
   * Connects the scrape-time gauges (collection vectors, tiers, WAL size,
   * memory, disk, budget) to their source; until then they report only
   * process memory. Call again to replace the source.
   */
  bindSource(source: MetricsSource): void;
}

/**
 * Creates a registry holding every metric. Each call makes an independent
 * registry, so tests and several servers in one process never share counts.
 *
 * @param options `defaultMetrics: false` leaves out the process metrics
 * @returns the typed handles and their registry
 *
 * @example
 * ```ts
 * import { createMetrics } from "./metrics.ts";
 * const metrics = createMetrics({ defaultMetrics: false });
 * metrics.upserts.inc(3);
 * const text = await metrics.registry.metrics();
 * if (!text.includes("akidb_vector_upserts_total 3")) throw new Error(text);
 * ```
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const metrics = buildMetrics(options);
  // Series that exist from the start, so rates, dashboards and alerts read 0, not "no data".
  for (const operation of S3_OPERATIONS) {
    for (const status of ["ok", "error"]) metrics.s3Operations.inc({ operation, status }, 0);
    metrics.s3OperationDuration.zero({ operation });
  }
  for (const [from, to] of TIER_TRANSITIONS) metrics.tierTransitions.inc({ from, to }, 0);
  metrics.circuitBreakerState.set({ service: "s3" }, 0);
  metrics.dlqSize.set(0);
  for (const operation of ["create", "restore"]) metrics.snapshotDuration.zero({ operation });
  metrics.searchDuration.zero({ tier: "hot" });
  return metrics;
}

function buildMetrics(options: { defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const buckets = (values: readonly number[]) => [...values];
  let source: MetricsSource | undefined;
  const collections = () => source?.collections() ?? [];
  return {
    registry,
    bindSource(next: MetricsSource) {
      source = next;
    },
    httpRequests: new Counter({
      name: "akidb_http_requests_total",
      help: "HTTP requests by method, route pattern and status code.",
      labelNames: ["method", "route", "status"],
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: "akidb_http_request_duration_seconds",
      help: "HTTP request latency by method and route pattern.",
      labelNames: ["method", "route"],
      buckets: buckets(HTTP_BUCKETS_SECONDS),
      registers,
    }),
    searchDuration: new Histogram({
      name: "akidb_vector_search_duration_seconds",
      help: "Engine search latency by the tier the collection was in.",
      labelNames: ["tier"],
      buckets: buckets(FAST_BUCKETS_SECONDS),
      registers,
    }),
    upserts: new Counter({
      name: "akidb_vector_upserts_total",
      help: "Points upserted (acknowledged).",
      registers,
    }),
    walAppendDuration: new Histogram({
      name: "akidb_wal_append_duration_seconds",
      help: "Time from a WAL append to its acknowledgement (group commit included).",
      buckets: buckets(FAST_BUCKETS_SECONDS),
      registers,
    }),
    walFsyncDuration: new Histogram({
      name: "akidb_wal_fsync_duration_seconds",
      help: "Duration of one WAL syncData call.",
      buckets: buckets(FAST_BUCKETS_SECONDS),
      registers,
    }),
    walSizeBytes: new Gauge({
      name: "akidb_wal_size_bytes",
      help: "Bytes of WAL segments on disk, all collections.",
      registers,
      collect() {
        this.set(collections().reduce((sum, c) => sum + c.walSizeBytes, 0));
      },
    }),
    snapshotDuration: new Histogram({
      name: "akidb_snapshot_duration_seconds",
      help: "Snapshot work by operation (create, restore, upload, download).",
      labelNames: ["operation"],
      buckets: buckets(SLOW_BUCKETS_SECONDS),
      registers,
    }),
    s3Operations: new Counter({
      name: "akidb_s3_operations_total",
      help: "Object-store operations by operation and status (ok, error).",
      labelNames: ["operation", "status"],
      registers,
    }),
    s3OperationDuration: new Histogram({
      name: "akidb_s3_operation_duration_seconds",
      help: "Object-store operation latency by operation.",
      labelNames: ["operation"],
      buckets: buckets(SLOW_BUCKETS_SECONDS),
      registers,
    }),
    circuitBreakerState: new Gauge({
      name: "akidb_circuit_breaker_state",
      help: "Circuit breaker state by service: 0 closed, 1 open, 2 half-open.",
      labelNames: ["service"],
      registers,
    }),
    dlqSize: new Gauge({
      name: "akidb_dlq_size",
      help: "Operations waiting in the dead-letter queue.",
      registers,
    }),
    collectionTier: new Gauge({
      name: "akidb_collection_tier",
      help: "1 for the tier each collection is in, 0 for the others.",
      labelNames: ["collection", "tier"],
      registers,
      collect() {
        this.reset();
        for (const c of collections()) {
          for (const tier of TIERS) this.set({ collection: c.name, tier }, c.tier === tier ? 1 : 0);
        }
      },
    }),
    tierTransitions: new Counter({
      name: "akidb_tier_transitions_total",
      help: "Tier transitions by source and target tier.",
      labelNames: ["from", "to"],
      registers,
    }),
    collectionVectors: new Gauge({
      name: "akidb_collection_vectors",
      help: "Live points per collection.",
      labelNames: ["collection"],
      registers,
      collect() {
        this.reset();
        for (const c of collections()) this.set({ collection: c.name }, c.vectorCount);
      },
    }),
    indexPendingPoints: new Gauge({
      name: "akidb_index_pending_points",
      help: "Acknowledged points per collection not yet linked into the graph (searched exactly).",
      labelNames: ["collection"],
      registers,
      collect() {
        this.reset();
        for (const c of collections()) this.set({ collection: c.name }, c.pendingIndexPoints);
      },
    }),
    indexTombstones: new Gauge({
      name: "akidb_index_tombstones",
      help: "Deleted or replaced points per collection still in the graph until compaction.",
      labelNames: ["collection"],
      registers,
      collect() {
        this.reset();
        for (const c of collections()) this.set({ collection: c.name }, c.graphTombstones);
      },
    }),
    memoryBytes: new Gauge({
      name: "akidb_memory_bytes",
      help: "Memory by component: wasm (index linear memory), js_heap (V8 heap used), " +
        "external (buffers outside the heap), rss (resident set of the process).",
      labelNames: ["component"],
      registers,
      collect() {
        const usage = Deno.memoryUsage();
        this.set({ component: "wasm" }, collections().reduce((sum, c) => sum + c.memoryBytes, 0));
        this.set({ component: "js_heap" }, usage.heapUsed);
        this.set({ component: "external" }, usage.external);
        this.set({ component: "rss" }, usage.rss);
      },
    }),
    hotMemoryBudgetBytes: new Gauge({
      name: "akidb_hot_memory_budget_bytes",
      help: "Configured index memory budget of the hot tier (tier.hot_memory_budget_bytes); " +
        "0 = unlimited.",
      registers,
      collect() {
        this.set(source?.hotMemoryBudgetBytes ?? 0);
      },
    }),
    diskFreeBytes: new Gauge({
      name: "akidb_disk_free_bytes",
      help: "Bytes available to AkiDB on the file system of the data directory.",
      registers,
      async collect() {
        const disk = await diskOf(source?.dataDir);
        if (disk !== undefined) this.set(disk.freeBytes);
      },
    }),
    diskTotalBytes: new Gauge({
      name: "akidb_disk_total_bytes",
      help: "Size of the file system of the data directory.",
      registers,
      async collect() {
        const disk = await diskOf(source?.dataDir);
        if (disk !== undefined) this.set(disk.totalBytes);
      },
    }),
  };
}

/**
 * Free and total bytes of the file system holding `path`. Deno has no
 * `statfs` of its own; `node:fs` provides one.
 */
async function diskOf(
  path: string | undefined,
): Promise<{ freeBytes: number; totalBytes: number } | undefined> {
  if (path === undefined) return undefined;
  try {
    const stats = await statfs(path);
    return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
  } catch {
    return undefined; // the directory vanished: leave the last values
  }
}
