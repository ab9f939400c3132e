/**
 * Retries with exponential backoff and full jitter (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): before attempt n+1 sleep a uniformly random
 * time in [0, min(delayMsMax, delayMsBase · 2^(n−1))]. Bounded twice: by the
 * number of attempts and by the total time, so a caller never waits longer
 * than `totalTimeMsMax` plus one attempt. Only retryable errors are retried.
 *
 * @module
 */

import { isRetryableError } from "./object_store_error.ts";

/** How to retry. */
export interface RetryOptions {
  /** Attempts in all, the first one included (≥ 1). */
  readonly attemptsMax: number;
  /** The backoff cap before the first retry, in ms. */
  readonly delayMsBase: number;
  /** The largest backoff cap, in ms. */
  readonly delayMsMax: number;
  /** No retry starts whose sleep would end later than this after the first attempt began, in ms. */
  readonly totalTimeMsMax: number;
}

/** Defaults; candidates for `limits.ts`. */
export const DEFAULT_RETRY_OPTIONS: RetryOptions = Object.freeze({
  attemptsMax: 5,
  delayMsBase: 100,
  delayMsMax: 5_000,
  totalTimeMsMax: 30_000,
});

/** Injected time and randomness, for tests. */
export interface RetryDeps {
  /** Milliseconds on a monotonic clock. Default `performance.now()`. */
  readonly now?: () => number;
  /** Waits ms. Default a `setTimeout` promise. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** A float in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** Which errors to retry. Default {@linkcode isRetryableError}. */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each sleep, e.g. to log. */
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/**
 * Checks retry options.
 *
 * @param options The options.
 * @returns The options.
 * @throws RangeError when a bound is out of range.
 */
export function checkRetryOptions(options: RetryOptions): RetryOptions {
  const { attemptsMax, delayMsBase, delayMsMax, totalTimeMsMax } = options;
  if (!Number.isInteger(attemptsMax) || attemptsMax < 1 || attemptsMax > 100) {
    throw new RangeError(`Cannot use retry attemptsMax ${attemptsMax}: expected 1..100`);
  }
  if (!(delayMsBase >= 0) || !(delayMsMax >= delayMsBase) || !(totalTimeMsMax >= 0)) {
    throw new RangeError(
      `Cannot use retry delays ${delayMsBase}/${delayMsMax}/${totalTimeMsMax} ms: ` +
        "expected 0 ≤ delayMsBase ≤ delayMsMax and totalTimeMsMax ≥ 0",
    );
  }
  return options;
}

/**
 * The backoff cap before retry number `retry` (1 = the first retry).
 *
 * @param options The retry options.
 * @param retry 1-based retry number.
 * @returns min(delayMsMax, delayMsBase · 2^(retry−1)).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffCapMs } from "./retry.ts";
 * const options = { attemptsMax: 5, delayMsBase: 100, delayMsMax: 1000, totalTimeMsMax: 10_000 };
 * assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffCapMs(options, n)), [100, 200, 400, 800, 1000]);
 * ```
 */
export function backoffCapMs(options: RetryOptions, retry: number): number {
  return Math.min(options.delayMsMax, options.delayMsBase * 2 ** Math.min(retry - 1, 52));
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `operation` until it succeeds, fails with a non-retryable error, runs
 * out of attempts or would exceed the time budget; then throws the last error.
 *
 * @param operation The operation; receives the 1-based attempt number.
 * @param options The bounds.
 * @param deps Clock, sleep, randomness, classification.
 * @returns What the operation returns.
 * @throws The operation's last error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withRetry } from "./retry.ts";
 * let calls = 0;
 * const result = await withRetry(async () => {
 *   calls++;
 *   if (calls < 3) throw new Error("flaky");
 *   return "ok";
 * }, { attemptsMax: 3, delayMsBase: 1, delayMsMax: 1, totalTimeMsMax: 1000 }, {
 *   isRetryable: () => true,
 *   sleep: () => Promise.resolve(),
 * });
 * assert.equal(result, "ok");
 * assert.equal(calls, 3);
 * ```
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = DEFAULT_RETRY_OPTIONS,
  deps: RetryDeps = {},
): Promise<T> {
  const now = deps.now ?? (() => performance.now());
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const isRetryable = deps.isRetryable ?? isRetryableError;
  const startedMs = now();
  for (let attempt = 1;; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= options.attemptsMax || !isRetryable(error)) throw error;
      const delayMs = Math.floor(random() * (backoffCapMs(options, attempt) + 1));
      if (now() + delayMs - startedMs > options.totalTimeMsMax) throw error;
      deps.onRetry?.(attempt, delayMs, error);
      await sleep(delayMs);
    }
  }
}
