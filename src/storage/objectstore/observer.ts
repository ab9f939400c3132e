/**
 * Observability hooks of the object store, so the metrics module can export
 * `akidb_s3_operations_total{operation,status}`,
 * `akidb_s3_operation_duration_seconds{operation}`,
 * `akidb_circuit_breaker_state{service="s3"}` and `akidb_dlq_size` without this
 * folder depending on a metrics library.
 *
 * @module
 */

import type { BreakerState } from "./circuit_breaker.ts";

/** The operations reported to {@linkcode ObjectStoreObserver.onOperation}. */
export type ObjectStoreOperation =
  | "put"
  | "put_file"
  | "get"
  | "get_to_file"
  | "head"
  | "delete"
  | "list";

/** Receives object-store events; every method must be cheap and must not throw. */
export interface ObjectStoreObserver {
  /** One S3 request attempt finished (a call refused by an open breaker is not reported). */
  onOperation(operation: ObjectStoreOperation, status: "ok" | "error", seconds: number): void;
  /** The circuit breaker changed state: 0 closed, 1 open, 2 half-open. */
  onBreakerState(state: BreakerState): void;
  /** The dead-letter queue now holds this many entries. */
  onDlqSize(size: number): void;
}

/** An observer that ignores everything. */
export const NOOP_OBSERVER: ObjectStoreObserver = Object.freeze({
  onOperation() {},
  onBreakerState() {},
  onDlqSize() {},
});
