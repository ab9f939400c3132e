/**
 * The object-store layer: an {@linkcode ObjectStore} interface with an S3
 * implementation, keys that only validated builders make, retries with
 * backoff and jitter, a circuit breaker, a background upload queue and a
 * persistent dead-letter queue.
 *
 * @module
 */

export * from "./object_key.ts";
export * from "./object_store.ts";
export * from "./object_store_error.ts";
export * from "./observer.ts";
export * from "./retry.ts";
export * from "./circuit_breaker.ts";
export * from "./s3_object_store.ts";
export * from "./resilient_object_store.ts";
export * from "./dead_letter_queue.ts";
export * from "./upload_queue.ts";
