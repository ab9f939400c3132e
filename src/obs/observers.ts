/**
 * Adapters from the observer interfaces of the storage layers to the metrics
 * (and spans) of {@linkcode Metrics}. They are typed structurally so that
 * `obs` stays a leaf: they match `WalObserver` (`src/storage/wal`) and
 * `ObjectStoreObserver` (`src/storage/objectstore`) without importing them.
 *
 * @module
 */

import type { Metrics } from "./metrics.ts";
import { recordSpan } from "./tracing.ts";

/** Matches `WalObserver` of `src/storage/wal`. */
export interface WalMetricsObserver {
  onAppend(seconds: number, bytes: number): void;
  onFsync(seconds: number): void;
}

/**
 * Records WAL timings: `akidb_wal_append_duration_seconds` per acknowledged
 * append and `akidb_wal_fsync_duration_seconds` per `syncData`, plus an
 * `akidb.wal.group_commit` span per fsync in a sampled request.
 *
 * @param metrics The registry's handles.
 * @returns An observer to pass to `createEngine({ walObserver })`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "./metrics.ts";
 * import { walObserver } from "./observers.ts";
 * const metrics = createMetrics({ defaultMetrics: false });
 * walObserver(metrics).onFsync(0.002);
 * assert.match(await metrics.registry.metrics(), /akidb_wal_fsync_duration_seconds_count 1/);
 * ```
 */
export function walObserver(metrics: Metrics): WalMetricsObserver {
  const append = metrics.walAppendDuration;
  const fsync = metrics.walFsyncDuration;
  return {
    onAppend(seconds: number) {
      append.observe(seconds);
    },
    onFsync(seconds: number) {
      fsync.observe(seconds);
      recordSpan("akidb.wal.group_commit", seconds);
    },
  };
}

/** Matches `ObjectStoreObserver` of `src/storage/objectstore`. */
export interface ObjectStoreMetricsObserver {
  onOperation(operation: string, status: "ok" | "error", seconds: number): void;
  onBreakerState(state: number): void;
  onDlqSize(size: number): void;
}

/**
 * Records object-store events: `akidb_s3_operations_total{operation,status}`,
 * `akidb_s3_operation_duration_seconds{operation}`,
 * `akidb_circuit_breaker_state{service="s3"}` and `akidb_dlq_size`, plus an
 * `akidb.s3.<operation>` span per attempt in a sampled context.
 *
 * @param metrics The registry's handles.
 * @returns An `ObjectStoreObserver` for the resilient object store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "./metrics.ts";
 * import { objectStoreObserver } from "./observers.ts";
 * const metrics = createMetrics({ defaultMetrics: false });
 * const observer = objectStoreObserver(metrics);
 * observer.onOperation("put", "error", 0.5);
 * observer.onBreakerState(1);
 * const text = await metrics.registry.metrics();
 * assert.match(text, /akidb_s3_operations_total\{operation="put",status="error"\} 1/);
 * assert.match(text, /akidb_circuit_breaker_state\{service="s3"\} 1/);
 * ```
 */
export function objectStoreObserver(metrics: Metrics): ObjectStoreMetricsObserver {
  return {
    onOperation(operation, status, seconds) {
      metrics.s3Operations.inc({ operation, status });
      metrics.s3OperationDuration.observe({ operation }, seconds);
      recordSpan(`akidb.s3.${operation}`, seconds, { "akidb.s3.status": status });
    },
    onBreakerState(state) {
      metrics.circuitBreakerState.set({ service: "s3" }, state);
    },
    onDlqSize(size) {
      metrics.dlqSize.set(size);
    },
  };
}

/**
 * Records one tier transition: `akidb_tier_transitions_total{from,to}`
 * (`akidb_collection_tier` itself is read from the engine on each scrape).
 * Call it once the move is done; wrap the move in `withRootSpan("akidb.tier.transition", …)`
 * from `tracing.ts` for a span.
 *
 * @param metrics The registry's handles.
 * @param from The tier left: `hot`, `warm` or `cold`.
 * @param to The tier entered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "./metrics.ts";
 * import { recordTierTransition } from "./observers.ts";
 * const metrics = createMetrics({ defaultMetrics: false });
 * recordTierTransition(metrics, "hot", "warm");
 * assert.match(await metrics.registry.metrics(), /akidb_tier_transitions_total\{from="hot",to="warm"\} 1/);
 * ```
 */
export function recordTierTransition(metrics: Metrics, from: string, to: string): void {
  metrics.tierTransitions.inc({ from, to });
}

/** Matches `TierObserver` of `src/engine/tier_manager.ts`. */
export interface TierMetricsObserver {
  onTransition(from: string, to: string): void;
  onTier(collection: string, tier: string): void;
}

/**
 * Records tier moves for `createEngine({ tierObserver })`: each transition
 * increments `akidb_tier_transitions_total{from,to}`. `onTier` needs no work:
 * `akidb_collection_tier` is computed from the engine on every scrape, so it
 * can never go stale or keep a dropped collection.
 *
 * @param metrics The registry's handles.
 * @returns A `TierObserver`.
 */
export function tierObserver(metrics: Metrics): TierMetricsObserver {
  return {
    onTransition(from, to) {
      recordTierTransition(metrics, from, to);
    },
    onTier() {},
  };
}

/**
 * Records snapshot timings for `createEngine({ snapshotObserver })`: every
 * creation (requested, automatic, before a demotion) and restore feeds
 * `akidb_snapshot_duration_seconds{operation}`.
 *
 * @param metrics The registry's handles.
 * @returns A `SnapshotObserver`.
 */
export function snapshotObserver(
  metrics: Metrics,
): { onSnapshot(operation: "create" | "restore", seconds: number): void } {
  return {
    onSnapshot(operation, seconds) {
      metrics.snapshotDuration.observe({ operation }, seconds);
    },
  };
}
