/**
 * An {@linkcode Engine} that stands in while the real one is being created,
 * so the server can listen (and answer `/health` and a 503 `/ready`) before
 * recovery finishes.
 *
 * @module
 */

import type { Engine, Readiness } from "../engine/engine_types.ts";
import { notReady } from "./api_error.ts";
import { snapshotsOf } from "./snapshot_routes.ts";
import { tiersOf } from "./tier_routes.ts";

/** A stand-in engine and the switch that hands calls to the real one. */
export interface DeferredEngine {
  /** Delegates to the real engine once set; not ready (503) before. */
  readonly engine: Engine;
  /** Hands every later call to `real`. */
  resolve(real: Engine): void;
  /** The real engine, when set. */
  current(): Engine | undefined;
}

/**
 * Builds a deferred engine.
 *
 * @returns The stand-in and its switch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDeferredEngine } from "./deferred_engine.ts";
 * const deferred = createDeferredEngine();
 * assert.equal(deferred.engine.readiness().recovered, false);
 * assert.throws(() => deferred.engine.listCollections(), /still recovering/);
 * ```
 */
export function createDeferredEngine(): DeferredEngine {
  let real: Engine | undefined;
  const target = (): Engine => {
    if (real === undefined) throw notReady();
    return real;
  };
  const recovering: Readiness = { recovered: false, failedCollections: [] };
  const engine: Engine = {
    readiness: () => real?.readiness() ?? recovering,
    createCollection: (spec) => target().createCollection(spec),
    listCollections: () => target().listCollections(),
    getCollection: (c) => target().getCollection(c),
    deleteCollection: (c) => target().deleteCollection(c),
    upsert: (c, points) => target().upsert(c, points),
    getPoint: (c, id) => target().getPoint(c, id),
    deletePoint: (c, id) => target().deletePoint(c, id),
    search: (c, request) => target().search(c, request),
    close: () => real?.close() ?? Promise.resolve(),
    createSnapshot: (c) => snapshotsOf(target()).createSnapshot(c),
    listSnapshots: (c) => snapshotsOf(target()).listSnapshots(c),
    restoreSnapshot: (c, id) => snapshotsOf(target()).restoreSnapshot(c, id),
    tierStatus: (c) => tiersOf(target()).tierStatus(c),
    promote: (c) => tiersOf(target()).promote(c),
    demote: (c, to) => tiersOf(target()).demote(c, to),
    pin: (c) => tiersOf(target()).pin(c),
    unpin: (c) => tiersOf(target()).unpin(c),
    dlqStatus: () => tiersOf(target()).dlqStatus(),
    retryDeadLetters: () => tiersOf(target()).retryDeadLetters(),
    resetCircuitBreaker: () => tiersOf(target()).resetCircuitBreaker(),
  };
  return {
    engine,
    resolve(engineToUse) {
      real = engineToUse;
    },
    current: () => real,
  };
}
