/**
 * An {@linkcode ObjectStore} decorator that sends every request attempt
 * through a circuit breaker, retries retryable failures with backoff and full
 * jitter, and reports each attempt to the observer. Not-found and client
 * errors pass straight through; a refusal by an open breaker is not retried.
 *
 * @module
 */

import type { Logger } from "../../obs/logger.ts";
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit_breaker.ts";
import { DEFAULT_CIRCUIT_BREAKER_OPTIONS } from "./circuit_breaker.ts";
import type { ObjectKey, ObjectKeyPrefix } from "./object_key.ts";
import type { ObjectHead, ObjectListing, ObjectStore } from "./object_store.ts";
import { NOOP_OBSERVER, type ObjectStoreObserver, type ObjectStoreOperation } from "./observer.ts";
import { DEFAULT_RETRY_OPTIONS, type RetryDeps, type RetryOptions, withRetry } from "./retry.ts";
import { checkRetryOptions } from "./retry.ts";
import { ObjectStoreError } from "./object_store_error.ts";

/** How the resilient store behaves. */
export interface ResilientObjectStoreOptions {
  /** Retry bounds. Default {@linkcode DEFAULT_RETRY_OPTIONS}. */
  readonly retry?: RetryOptions;
  /** Breaker thresholds. Default {@linkcode DEFAULT_CIRCUIT_BREAKER_OPTIONS}. */
  readonly breaker?: CircuitBreakerOptions;
  /** Receives attempts and breaker states. */
  readonly observer?: ObjectStoreObserver;
  /** Logs retries and breaker changes. */
  readonly logger?: Logger;
  /** Injected clock, sleep and randomness (tests). */
  readonly retryDeps?: Pick<RetryDeps, "now" | "sleep" | "random">;
}

const attemptsByError = new WeakMap<object, number>();

/**
 * How many requests reached the store before this error escaped a resilient
 * store (0 when an open breaker refused the first one).
 *
 * @param error An error thrown by a {@linkcode ResilientObjectStore}.
 * @returns The number of attempts that ran, or 1 when unknown.
 */
export function attemptsMade(error: unknown): number {
  return typeof error === "object" && error !== null ? attemptsByError.get(error) ?? 1 : 1;
}

const BREAKER_STATE_NAMES = ["closed", "open", "half-open"] as const;

/**
 * The resilient store.
 *
 * @example
 * ```ts ignore
 * const store = new ResilientObjectStore(new S3ObjectStore(config.s3), { observer });
 * await store.put(key, bytes); // retried, behind the breaker
 * store.breaker.reset();
 * ```
 */
export class ResilientObjectStore implements ObjectStore {
  /** The breaker every attempt goes through. */
  readonly breaker: CircuitBreaker;
  readonly #inner: ObjectStore;
  readonly #retry: RetryOptions;
  readonly #observer: ObjectStoreObserver;
  readonly #retryDeps: RetryDeps;

  /**
   * @param inner The store doing the requests.
   * @param options Retry bounds, breaker thresholds, observer, logger.
   * @throws RangeError when an option is out of range.
   */
  constructor(inner: ObjectStore, options: ResilientObjectStoreOptions = {}) {
    this.#inner = inner;
    this.#retry = checkRetryOptions(options.retry ?? DEFAULT_RETRY_OPTIONS);
    const observer = options.observer ?? NOOP_OBSERVER;
    this.#observer = observer;
    const logger = options.logger;
    const now = options.retryDeps?.now;
    this.breaker = new CircuitBreaker(options.breaker ?? DEFAULT_CIRCUIT_BREAKER_OPTIONS, {
      ...(now === undefined ? {} : { now }),
      onStateChange: (state, previous) => {
        logger?.warn("object store circuit breaker changed state", {
          service: "s3",
          state: BREAKER_STATE_NAMES[state],
          previous: BREAKER_STATE_NAMES[previous],
        });
        observer.onBreakerState(state);
      },
    });
    observer.onBreakerState(this.breaker.state);
    this.#retryDeps = {
      ...options.retryDeps,
      onRetry: (attempt, delayMs, error) => {
        logger?.debug("retrying object store request", {
          attempt,
          delay_ms: delayMs,
          error: error instanceof Error ? error.message : String(error),
        });
      },
    };
  }

  put(key: ObjectKey, bytes: Uint8Array): Promise<void> {
    return this.#run("put", () => this.#inner.put(key, bytes));
  }

  putFile(key: ObjectKey, path: string): Promise<void> {
    return this.#run("put_file", () => this.#inner.putFile(key, path));
  }

  get(key: ObjectKey): Promise<Uint8Array> {
    return this.#run("get", () => this.#inner.get(key));
  }

  getToFile(key: ObjectKey, path: string): Promise<void> {
    return this.#run("get_to_file", () => this.#inner.getToFile(key, path));
  }

  head(key: ObjectKey): Promise<ObjectHead | undefined> {
    return this.#run("head", () => this.#inner.head(key));
  }

  delete(key: ObjectKey): Promise<void> {
    return this.#run("delete", () => this.#inner.delete(key));
  }

  list(prefix: ObjectKeyPrefix): Promise<ObjectListing[]> {
    return this.#run("list", () => this.#inner.list(prefix));
  }

  async #run<T>(operation: ObjectStoreOperation, request: () => Promise<T>): Promise<T> {
    let attempts = 0;
    let requestError: unknown = undefined;
    const attempt = () =>
      this.breaker.execute(async () => {
        attempts++;
        const startedMs = performance.now();
        try {
          const result = await request();
          this.#observer.onOperation(operation, "ok", (performance.now() - startedMs) / 1000);
          return result;
        } catch (error) {
          this.#observer.onOperation(operation, "error", (performance.now() - startedMs) / 1000);
          requestError = error;
          throw error;
        }
      });
    try {
      return await withRetry(attempt, this.#retry, this.#retryDeps);
    } catch (error) {
      // When the breaker refused a retry, the request's own error says more.
      const cause = error instanceof ObjectStoreError && error.kind === "circuit_open" &&
          requestError !== undefined
        ? requestError
        : error;
      if (typeof cause === "object" && cause !== null) attemptsByError.set(cause, attempts);
      throw cause;
    }
  }
}
