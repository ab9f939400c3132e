/**
 * The failure of an object-store operation that is not "not found" (that one
 * is a {@linkcode NotFoundError}): network trouble, a timeout, a 5xx, throttling,
 * a rejected request, or a call refused by an open circuit breaker. `retryable`
 * says whether trying again may help.
 *
 * It stands outside the four domain errors because it describes an external
 * service being unavailable; the HTTP layer maps it to 503.
 *
 * @module
 */

/** Why an object-store operation failed. */
export type ObjectStoreErrorKind =
  | "network"
  | "timeout"
  | "server"
  | "throttled"
  | "client"
  | "circuit_open";

/** Options of an {@linkcode ObjectStoreError}. */
export interface ObjectStoreErrorOptions {
  /** Why it failed. */
  readonly kind: ObjectStoreErrorKind;
  /** The HTTP status, when a response arrived. */
  readonly statusCode?: number;
  /** The lower-level error. */
  readonly cause?: unknown;
}

const RETRYABLE_KINDS: ReadonlySet<ObjectStoreErrorKind> = new Set([
  "network",
  "timeout",
  "server",
  "throttled",
]);

/**
 * An object-store operation failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ObjectStoreError } from "./object_store_error.ts";
 * const error = new ObjectStoreError("Cannot put object \"k\": connection refused", { kind: "network" });
 * assert.equal(error.retryable, true);
 * assert.equal(error.code, "object_store_network");
 * ```
 */
export class ObjectStoreError extends Error {
  /** Why it failed. */
  readonly kind: ObjectStoreErrorKind;
  /** The HTTP status, when a response arrived. */
  readonly statusCode: number | undefined;
  /** Whether another attempt may succeed. */
  readonly retryable: boolean;
  /** Stable machine-readable code: `object_store_<kind>`. */
  readonly code: string;

  constructor(message: string, options: ObjectStoreErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ObjectStoreError";
    this.kind = options.kind;
    this.statusCode = options.statusCode;
    this.retryable = RETRYABLE_KINDS.has(options.kind);
    this.code = `object_store_${options.kind}`;
  }
}

/**
 * Whether an error is worth another attempt: only an {@linkcode ObjectStoreError}
 * that says so. Not-found, client errors, an open breaker and programmer errors
 * are final.
 *
 * @param error Anything thrown.
 * @returns True when the operation may be retried.
 */
export function isRetryableError(error: unknown): boolean {
  return error instanceof ObjectStoreError && error.retryable;
}
