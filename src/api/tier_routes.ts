/**
 * The tier and object-store admin routes: a collection's tier state, promote,
 * demote, pin and unpin; the dead-letter queue, its replay, and the circuit
 * breaker's reset. Handlers validate, make one engine call and render.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { DlqStatus, Engine, RetryAllReport, TierStatus } from "../engine/engine_types.ts";
import { NotFoundError } from "../errors.ts";
import { readJsonBody } from "./read_json_body.ts";
import { parseCollectionRef } from "./validate_request.ts";

/** What the tier routes need. */
export interface TierRouteServices {
  readonly engine: Engine;
  readonly maxBodyBytes: number;
}

/** The engine's tier and DLQ methods, all required. */
export type TieringEngine = Required<
  Pick<
    Engine,
    | "tierStatus"
    | "promote"
    | "demote"
    | "pin"
    | "unpin"
    | "dlqStatus"
    | "retryDeadLetters"
    | "resetCircuitBreaker"
  >
>;

/**
 * Adds `GET /api/v1/collections/{c}/tier`, `POST /api/v1/admin/collections/{c}/promote|demote|pin|unpin`,
 * `GET /api/v1/admin/dlq`, `POST /api/v1/admin/dlq/retry-all` and
 * `POST /api/v1/admin/circuit-breaker/reset`.
 *
 * @param app The app.
 * @param services The engine and the body limit.
 */
export function addTierRoutes(app: Hono, services: TierRouteServices): void {
  const { engine, maxBodyBytes } = services;
  const collection = (c: Context) => parseCollectionRef(c.req.param("c") ?? "");
  const admin = "/api/v1/admin/collections/:c";

  app.get(
    "/api/v1/collections/:c/tier",
    (c) => c.json(renderTierStatus(tiersOf(engine).tierStatus(collection(c)))),
  );
  app.post(
    `${admin}/promote`,
    async (c) => c.json(renderTierStatus(await tiersOf(engine).promote(collection(c)))),
  );
  app.post(`${admin}/demote`, async (c) => {
    const name = collection(c);
    const to = parseDemote(await readJsonBody(c.req.raw, maxBodyBytes));
    return c.json(renderTierStatus(await tiersOf(engine).demote(name, to)));
  });
  app.post(
    `${admin}/pin`,
    async (c) => c.json(renderTierStatus(await tiersOf(engine).pin(collection(c)))),
  );
  app.post(
    `${admin}/unpin`,
    async (c) => c.json(renderTierStatus(await tiersOf(engine).unpin(collection(c)))),
  );

  app.get("/api/v1/admin/dlq", (c) => c.json(renderDlq(tiersOf(engine).dlqStatus())));
  app.post(
    "/api/v1/admin/dlq/retry-all",
    async (c) => c.json(renderRetry(await tiersOf(engine).retryDeadLetters())),
  );
  app.post("/api/v1/admin/circuit-breaker/reset", (c) => {
    const { breakerState } = tiersOf(engine).resetCircuitBreaker();
    return c.json({ circuit_breaker_state: breakerState });
  });
}

/**
 * Validates a demote body: `{"tier": "warm" | "cold"}`.
 *
 * @param body The parsed JSON body.
 * @returns The target tier.
 * @throws TypeError (400) when the shape is wrong; RangeError (422) for another tier
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDemote } from "./tier_routes.ts";
 * assert.equal(parseDemote({ tier: "cold" }), "cold");
 * assert.throws(() => parseDemote({ tier: "hot" }), RangeError);
 * assert.throws(() => parseDemote([]), TypeError);
 * ```
 */
export function parseDemote(body: unknown): "warm" | "cold" {
  const tier = typeof body === "object" && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>).tier
    : undefined;
  if (typeof tier !== "string") {
    throw Object.assign(
      new TypeError('Cannot demote: expected a body {"tier": "warm" or "cold"}'),
      { code: "invalid_request" },
    );
  }
  if (tier !== "warm" && tier !== "cold") {
    throw Object.assign(
      new RangeError(
        `Cannot demote to tier ${JSON.stringify(tier.slice(0, 64))}: expected "warm" or "cold"`,
      ),
      { code: "invalid_tier" },
    );
  }
  return tier;
}

/**
 * Renders a tier state.
 *
 * @param status The engine's tier state.
 * @returns The JSON object.
 */
export function renderTierStatus(status: TierStatus): Record<string, unknown> {
  return {
    tier: status.tier,
    pinned: status.pinned,
    last_accessed_at: status.lastAccessedAt,
    access_count: status.accessCount,
    vector_count: status.vectorCount,
    memory_bytes: status.memoryBytes,
    snapshot_id: status.snapshotId ?? null,
  };
}

function renderDlq(status: DlqStatus): Record<string, unknown> {
  return {
    size: status.size,
    circuit_breaker_state: status.breakerState,
    entries: status.entries.map((entry) => ({
      id: entry.id,
      operation: entry.operation,
      key: entry.key,
      local_path: entry.localPath ?? null,
      size_bytes: entry.sizeBytes,
      attempts: entry.attempts,
      last_error: entry.lastError,
      first_failure_at: new Date(entry.firstFailureAtMs).toISOString(),
      last_failure_at: new Date(entry.lastFailureAtMs).toISOString(),
    })),
  };
}

function renderRetry(report: RetryAllReport): Record<string, unknown> {
  return {
    succeeded: report.succeeded,
    failed: report.failed,
    remaining: report.remaining,
    discarded: report.discarded,
    circuit_breaker_state: report.breakerState,
  };
}

/**
 * The engine's tier and DLQ methods, bound, or a 404 when this engine has none.
 *
 * @param engine The engine.
 * @returns Its methods.
 * @throws NotFoundError when it lacks them
 */
export function tiersOf(engine: Engine): TieringEngine {
  const e = engine;
  if (
    !e.tierStatus || !e.promote || !e.demote || !e.pin || !e.unpin || !e.dlqStatus ||
    !e.retryDeadLetters || !e.resetCircuitBreaker
  ) {
    throw new NotFoundError("Cannot use tiers: this server has no tiering support", {
      code: "route_not_found",
    });
  }
  return {
    tierStatus: e.tierStatus.bind(e),
    promote: e.promote.bind(e),
    demote: e.demote.bind(e),
    pin: e.pin.bind(e),
    unpin: e.unpin.bind(e),
    dlqStatus: e.dlqStatus.bind(e),
    retryDeadLetters: e.retryDeadLetters.bind(e),
    resetCircuitBreaker: e.resetCircuitBreaker.bind(e),
  };
}
