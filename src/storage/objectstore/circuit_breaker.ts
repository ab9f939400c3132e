/**
 * A circuit breaker over a sliding window of the last N calls. Closed: calls
 * pass and their outcomes are recorded; once the window holds at least
 * `callsMin` outcomes and the failure rate reaches `failureRateThreshold`, it
 * opens. Open: calls are refused at once with an `ObjectStoreError` of kind
 * `circuit_open`, until `cooldownMs` has passed; then the next call is let
 * through as the single probe (half-open) while others are still refused.
 * The probe's success closes the breaker (with an empty window), its failure
 * reopens it for another cooldown. `reset()` closes it by hand.
 *
 * State codes are stable, as exported by `akidb_circuit_breaker_state`:
 * 0 closed, 1 open, 2 half-open.
 *
 * @module
 */

import { isRetryableError, ObjectStoreError } from "./object_store_error.ts";

/** The breaker states, with their exported numeric codes. */
export const BreakerState = Object.freeze({ closed: 0, open: 1, halfOpen: 2 } as const);

/** A breaker state: 0 closed, 1 open, 2 half-open. */
export type BreakerState = typeof BreakerState[keyof typeof BreakerState];

/** How the breaker decides. */
export interface CircuitBreakerOptions {
  /** How many of the latest calls the window holds (≥ 1). */
  readonly windowSize: number;
  /** Fewest outcomes in the window before it may open (1..windowSize). */
  readonly callsMin: number;
  /** Opens when failures / calls in the window reach this (0 < x ≤ 1). */
  readonly failureRateThreshold: number;
  /** How long it stays open before a probe, in ms. */
  readonly cooldownMs: number;
}

/** Defaults; candidates for `limits.ts`. */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: CircuitBreakerOptions = Object.freeze({
  windowSize: 20,
  callsMin: 5,
  failureRateThreshold: 0.5,
  cooldownMs: 10_000,
});

/** Injected clock, classification and observer. */
export interface CircuitBreakerDeps {
  /** Milliseconds on a monotonic clock. Default `performance.now()`. */
  readonly now?: () => number;
  /** Which errors count as failures. Default: retryable errors (not 404s or bad requests). */
  readonly isFailure?: (error: unknown) => boolean;
  /** Called on every state change, after it happened. */
  readonly onStateChange?: (state: BreakerState, previous: BreakerState) => void;
  /** A name used in the refusal's message. Default `s3`. */
  readonly service?: string;
}

/**
 * The circuit breaker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BreakerState, CircuitBreaker } from "./circuit_breaker.ts";
 * let nowMs = 0;
 * const breaker = new CircuitBreaker(
 *   { windowSize: 4, callsMin: 2, failureRateThreshold: 0.5, cooldownMs: 100 },
 *   { now: () => nowMs, isFailure: () => true },
 * );
 * for (let i = 0; i < 2; i++) {
 *   await breaker.execute(() => Promise.reject(new Error("down"))).catch(() => {});
 * }
 * assert.equal(breaker.state, BreakerState.open);
 * nowMs = 100;
 * assert.equal(await breaker.execute(() => Promise.resolve(7)), 7);
 * assert.equal(breaker.state, BreakerState.closed);
 * ```
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  readonly #now: () => number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #onStateChange: (state: BreakerState, previous: BreakerState) => void;
  readonly #service: string;
  /** Ring buffer of outcomes: true = failure. */
  readonly #window: boolean[] = [];
  #windowNext = 0;
  #state: BreakerState = BreakerState.closed;
  #openedAtMs = 0;
  #probeInFlight = false;

  /**
   * @param options The thresholds.
   * @param deps Clock, classification, observer.
   * @throws RangeError when an option is out of range.
   */
  constructor(
    options: CircuitBreakerOptions = DEFAULT_CIRCUIT_BREAKER_OPTIONS,
    deps: CircuitBreakerDeps = {},
  ) {
    const { windowSize, callsMin, failureRateThreshold, cooldownMs } = options;
    if (!Number.isInteger(windowSize) || windowSize < 1 || windowSize > 10_000) {
      throw new RangeError(`Cannot use breaker windowSize ${windowSize}: expected 1..10000`);
    }
    if (!Number.isInteger(callsMin) || callsMin < 1 || callsMin > windowSize) {
      throw new RangeError(`Cannot use breaker callsMin ${callsMin}: expected 1..${windowSize}`);
    }
    if (!(failureRateThreshold > 0 && failureRateThreshold <= 1)) {
      throw new RangeError(
        `Cannot use breaker failureRateThreshold ${failureRateThreshold}: expected (0, 1]`,
      );
    }
    if (!(cooldownMs >= 0)) {
      throw new RangeError(`Cannot use breaker cooldownMs ${cooldownMs}: expected ≥ 0`);
    }
    this.#options = options;
    this.#now = deps.now ?? (() => performance.now());
    this.#isFailure = deps.isFailure ?? isRetryableError;
    this.#onStateChange = deps.onStateChange ?? (() => {});
    this.#service = deps.service ?? "s3";
  }

  /** The current state. An open breaker past its cooldown reports open until a call probes. */
  get state(): BreakerState {
    return this.#state;
  }

  /** The failure rate over the window, 0 when it is empty. */
  get failureRate(): number {
    if (this.#window.length === 0) return 0;
    return this.#window.filter((failed) => failed).length / this.#window.length;
  }

  /**
   * Runs an operation through the breaker.
   *
   * @param operation The operation.
   * @returns What it returns.
   * @throws ObjectStoreError of kind `circuit_open` when refused; else the operation's error.
   */
  async execute<T>(operation: () => Promise<T>): Promise<T> {
    const isProbe = this.#admit();
    let result: T;
    try {
      result = await operation();
    } catch (error) {
      this.#record(isProbe, this.#isFailure(error));
      throw error;
    }
    this.#record(isProbe, false);
    return result;
  }

  /** Closes the breaker and forgets the window. */
  reset(): void {
    this.#clearWindow();
    this.#probeInFlight = false;
    this.#transition(BreakerState.closed);
  }

  /** Decides whether a call may run; true when it is the half-open probe. */
  #admit(): boolean {
    if (this.#state === BreakerState.closed) return false;
    if (this.#state === BreakerState.open) {
      const remainingMs = this.#openedAtMs + this.#options.cooldownMs - this.#now();
      if (remainingMs > 0) throw this.#refusal(`open for another ${Math.ceil(remainingMs)} ms`);
      this.#transition(BreakerState.halfOpen);
    }
    if (this.#probeInFlight) throw this.#refusal("half-open, a probe is in flight");
    this.#probeInFlight = true;
    return true;
  }

  #record(isProbe: boolean, failed: boolean): void {
    if (isProbe) {
      this.#probeInFlight = false;
      if (this.#state !== BreakerState.halfOpen) return; // reset() while the probe ran
      if (failed) {
        this.#open();
      } else {
        this.#clearWindow();
        this.#transition(BreakerState.closed);
      }
      return;
    }
    if (this.#state !== BreakerState.closed) return; // a call admitted before the breaker opened
    const { windowSize, callsMin, failureRateThreshold } = this.#options;
    if (this.#window.length < windowSize) {
      this.#window.push(failed);
    } else {
      this.#window[this.#windowNext] = failed;
    }
    this.#windowNext = (this.#windowNext + 1) % windowSize;
    if (failed && this.#window.length >= callsMin && this.failureRate >= failureRateThreshold) {
      this.#open();
    }
  }

  #open(): void {
    this.#openedAtMs = this.#now();
    this.#clearWindow();
    this.#transition(BreakerState.open);
  }

  #clearWindow(): void {
    this.#window.length = 0;
    this.#windowNext = 0;
  }

  #transition(state: BreakerState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#onStateChange(state, previous);
  }

  #refusal(detail: string): ObjectStoreError {
    return new ObjectStoreError(`Cannot call ${this.#service}: circuit breaker ${detail}`, {
      kind: "circuit_open",
    });
  }
}
