/**
 * Load generators: a closed loop (N clients, each sends its next request when the previous one
 * answered) for saturation throughput, and an open loop (sends on a fixed clock whatever the
 * answers do) for latency. The open loop measures every latency from the request's *scheduled*
 * send time, so a stalled server is charged for the requests it delayed (no coordinated
 * omission).
 *
 * Deno's timers fire up to about a millisecond late, and that lag would be charged to the server
 * as latency. So the open loop sleeps until shortly before each send time and spins the rest
 * (at most {@linkcode SPIN_MS_MAX}, and at most a tenth of the interval, so the spin never takes
 * more than a tenth of the client's core from a server that shares the machine). Whatever lag is
 * left is still counted, and reported as `sendLag…`.
 *
 * @module
 */

import { type LatencySummary, round3, summarize } from "./latency.ts";

/** Longest busy-wait before a scheduled send, in ms: about one timer tick. */
export const SPIN_MS_MAX = 1;

/** One request: `index` counts from 0 over the run. Resolves when the answer is fully read. */
export type Request = (index: number) => Promise<void>;

/** Result of a closed-loop run. */
export interface ClosedLoopResult {
  readonly clients: number;
  readonly seconds: number;
  readonly requests: number;
  readonly errors: number;
  readonly requestsPerSecond: number;
  /** Service latency per request (closed loop: no queueing at the client). */
  readonly latency: LatencySummary;
}

/**
 * Runs `clients` concurrent request loops for `durationMs`.
 *
 * @param clients Concurrent clients.
 * @param durationMs How long to keep sending.
 * @param request Sends one request.
 * @returns Throughput and latency.
 */
export async function closedLoop(
  clients: number,
  durationMs: number,
  request: Request,
): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline) {
      const index = next++;
      const sent = performance.now();
      try {
        await request(index);
        latencies.push(performance.now() - sent);
      } catch {
        errors += 1;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return {
    clients,
    seconds: round3(seconds),
    requests: latencies.length,
    errors,
    requestsPerSecond: Math.round(latencies.length / seconds),
    latency: summarize(Float64Array.from(latencies)),
  };
}

/** Result of an open-loop run. */
export interface OpenLoopResult {
  readonly targetPerSecond: number;
  readonly seconds: number;
  /** Requests scheduled (rate × duration). */
  readonly scheduled: number;
  readonly completed: number;
  readonly errors: number;
  /** Scheduled but never sent because `outstandingMax` requests were in flight. */
  readonly dropped: number;
  readonly achievedPerSecond: number;
  /** Latency from scheduled send time to the end of the answer. */
  readonly latency: LatencySummary;
  /** How late the generator itself sent requests (its own event-loop lag): p50, p99, max. */
  readonly sendLagP50Ms: number;
  readonly sendLagP99Ms: number;
  readonly sendLagMaxMs: number;
}

/**
 * Sends `ratePerSecond` requests on a fixed clock for `durationMs`, without waiting for answers.
 *
 * @param ratePerSecond Target rate.
 * @param durationMs How long to schedule requests.
 * @param request Sends one request.
 * @param outstandingMax Bound on requests in flight; requests beyond it are dropped and counted.
 * @returns Latency percentiles measured from the scheduled times.
 */
export async function openLoop(
  ratePerSecond: number,
  durationMs: number,
  request: Request,
  outstandingMax = 10_000,
): Promise<OpenLoopResult> {
  const intervalMs = 1000 / ratePerSecond;
  const spinMs = Math.min(SPIN_MS_MAX, intervalMs / 10);
  const total = Math.floor((durationMs / 1000) * ratePerSecond);
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  let completed = 0;
  let errors = 0;
  let dropped = 0;
  let outstanding = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    const scheduledAt = started + index * intervalMs;
    await sendTime(scheduledAt, spinMs);
    lags[index] = Math.max(0, performance.now() - scheduledAt);
    if (outstanding >= outstandingMax) {
      dropped += 1;
      continue;
    }
    outstanding += 1;
    const sent = request(index).then(
      () => void (latencies[completed++] = performance.now() - scheduledAt),
      () => void (errors += 1),
    ).finally(() => {
      outstanding -= 1;
      inFlight.delete(sent);
    });
    inFlight.add(sent);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  const lagSummary = summarize(lags);
  return {
    targetPerSecond: ratePerSecond,
    seconds: round3(seconds),
    scheduled: total,
    completed,
    errors,
    dropped,
    achievedPerSecond: Math.round(completed / seconds),
    latency: summarize(latencies.subarray(0, completed)),
    sendLagP50Ms: lagSummary.p50Ms,
    sendLagP99Ms: lagSummary.p99Ms,
    sendLagMaxMs: lagSummary.maxMs,
  };
}

/**
 * Resolves at `atMs` (a `performance.now()` time): sleeps until `spinMs` before it, then spins.
 *
 * @param atMs When to resolve.
 * @param spinMs How long before `atMs` to stop sleeping and busy-wait.
 */
async function sendTime(atMs: number, spinMs: number): Promise<void> {
  const sleepMs = atMs - spinMs - performance.now();
  if (sleepMs > 0) await sleep(sleepMs);
  while (performance.now() < atMs) {
    // busy-wait: bounded by spinMs plus the timer's own lateness
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
