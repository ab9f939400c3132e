/**
 * The snapshot routes: create and list a collection's snapshots, restore one
 * into the running collection. Handlers validate, make one engine call and
 * return the manifest JSON (`docs/formats/snapshot.md`) as is.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { Engine, SnapshotManifest } from "../engine/engine_types.ts";
import { NotFoundError } from "../errors.ts";
import { readJsonBody } from "./read_json_body.ts";
import { parseCollectionRef } from "./validate_request.ts";

/** What the snapshot routes need. */
export interface SnapshotRouteServices {
  readonly engine: Engine;
  readonly maxBodyBytes: number;
}

const SNAPSHOT_ID = /^[0-9]{20}-[0-9a-f]{8}$/;

/**
 * Adds `POST|GET /api/v1/collections/{c}/snapshots` and
 * `POST /api/v1/admin/collections/{c}/restore`.
 *
 * @param app The app.
 * @param services The engine and the body limit.
 */
export function addSnapshotRoutes(app: Hono, services: SnapshotRouteServices): void {
  const { engine, maxBodyBytes } = services;
  const collection = (c: Context) => parseCollectionRef(c.req.param("c") ?? "");

  app.post("/api/v1/collections/:c/snapshots", async (c) => {
    const manifest = await snapshotsOf(engine).createSnapshot(collection(c));
    return c.json(manifest, 201);
  });
  app.get("/api/v1/collections/:c/snapshots", async (c) => {
    const snapshots: SnapshotManifest[] = await snapshotsOf(engine).listSnapshots(collection(c));
    return c.json({ snapshots });
  });
  app.post("/api/v1/admin/collections/:c/restore", async (c) => {
    const name = collection(c);
    const snapshotId = parseRestore(await readJsonBody(c.req.raw, maxBodyBytes));
    const { restored, checkpoint } = await snapshotsOf(engine).restoreSnapshot(name, snapshotId);
    return c.json({
      ...restored,
      restored_at_lsn: checkpoint.lsn,
      checkpoint_snapshot_id: checkpoint.snapshot_id,
    });
  });
}

/**
 * Validates a restore body: `{"snapshot_id": "latest" | "<20 digits>-<8 hex>"}`.
 *
 * @param body The parsed JSON body.
 * @returns The snapshot id or `"latest"`.
 * @throws TypeError (400) when the shape is wrong; RangeError (422) for a malformed id
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRestore } from "./snapshot_routes.ts";
 * assert.equal(parseRestore({ snapshot_id: "latest" }), "latest");
 * assert.throws(() => parseRestore({ snapshot_id: "x" }), RangeError);
 * assert.throws(() => parseRestore({}), TypeError);
 * ```
 */
export function parseRestore(body: unknown): string {
  const id = typeof body === "object" && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>).snapshot_id
    : undefined;
  if (typeof id !== "string") {
    throw Object.assign(
      new TypeError('Cannot restore: expected a body {"snapshot_id": "latest" or an id}'),
      { code: "invalid_request" },
    );
  }
  if (id !== "latest" && !SNAPSHOT_ID.test(id)) {
    throw Object.assign(
      new RangeError(
        `Cannot restore snapshot ${
          JSON.stringify(id.slice(0, 64))
        }: expected "latest" or an id like 00000000000000000042-6740a1b2`,
      ),
      { code: "invalid_snapshot_id" },
    );
  }
  return id;
}

/**
 * The engine's snapshot methods, bound, or a 404 when this engine has none.
 *
 * @param engine The engine.
 * @returns Its create, list and restore methods.
 * @throws NotFoundError when it lacks them
 */
export function snapshotsOf(engine: Engine): Required<
  Pick<Engine, "createSnapshot" | "listSnapshots" | "restoreSnapshot">
> {
  const { createSnapshot, listSnapshots, restoreSnapshot } = engine;
  if (!createSnapshot || !listSnapshots || !restoreSnapshot) {
    throw new NotFoundError("Cannot use snapshots: this server has no snapshot support", {
      code: "route_not_found",
    });
  }
  return {
    createSnapshot: createSnapshot.bind(engine),
    listSnapshots: listSnapshots.bind(engine),
    restoreSnapshot: restoreSnapshot.bind(engine),
  };
}
