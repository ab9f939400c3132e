/**
 * Builds AkiDB's HTTP app: health and readiness, authentication, request
 * logging, the collection routes, and the one place where errors become
 * responses.
 *
 * @module
 */

import { Hono } from "hono";
import type { Config } from "../config/mod.ts";
import type { Engine } from "../engine/engine_types.ts";
import { NotFoundError } from "../errors.ts";
import type { Logger } from "../obs/logger.ts";
import type { Metrics } from "../obs/metrics.ts";
import { notReady } from "./api_error.ts";
import type { ParsePool } from "./parse_pool.ts";
import { apiKeyAuth } from "./auth.ts";
import { errorResponse } from "./error_map.ts";
import { httpMetrics } from "./metrics_middleware.ts";
import { requestLog } from "./request_log.ts";
import { addCollectionRoutes } from "./routes.ts";
import { addSnapshotRoutes } from "./snapshot_routes.ts";
import { addTierRoutes } from "./tier_routes.ts";

/** What the app is built from. */
export interface AppServices {
  /** Collections as a service. */
  readonly engine: Engine;
  /** The loaded configuration (`server` limits, `auth` keys and `metrics.public` are used). */
  readonly config: Pick<Config, "server" | "auth"> & { readonly metrics?: Config["metrics"] };
  /** Where request and error lines go. */
  readonly logger: Logger;
  /** The version `/health` reports. */
  readonly version: string;
  /** The metrics registry: with it, requests are measured and `GET /metrics` serves it. */
  readonly metrics?: Metrics | undefined;
  /** Workers that parse large upsert bodies off the request thread; without it, inline. */
  readonly parsePool?: ParsePool | undefined;
}

const PUBLIC_PATHS: readonly string[] = ["/health", "/ready"];

/**
 * Builds the app.
 *
 * @param services The engine, configuration, logger and version.
 * @returns A Hono app; serve it with `Deno.serve(app.fetch)` or test it with `app.request`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./create_app.ts";
 * import { createLogger } from "../obs/logger.ts";
 * import type { Engine } from "../engine/engine_types.ts";
 * const engine = { readiness: () => ({ recovered: false, failedCollections: [] }) } as unknown as Engine;
 * const config = { server: { maxBodyBytes: 1 << 20, maxBatchPoints: 100 }, auth: { apiKeys: [] } };
 * const app = createApp({ engine, config: config as never, logger: createLogger({ sink: () => {} }), version: "0.0.0" });
 * assert.equal((await app.request("/ready")).status, 503);
 * assert.deepEqual(await (await app.request("/health")).json(), { status: "ok", version: "0.0.0" });
 * ```
 */
export function createApp(services: AppServices): Hono {
  const { engine, config, logger, version, metrics } = services;
  const app = new Hono();

  if (metrics !== undefined) app.use(httpMetrics(metrics));
  app.use(requestLog(logger));
  const publicPaths = config.metrics?.public === true
    ? [...PUBLIC_PATHS, "/metrics"]
    : PUBLIC_PATHS;
  app.use(apiKeyAuth({ apiKeys: config.auth.apiKeys, publicPaths }));

  app.get("/health", (c) => c.json({ status: "ok", version }));
  app.get("/ready", (c) => {
    const { recovered, failedCollections } = engine.readiness();
    const failed = failedCollections.map(({ name, error }) => ({ name, error }));
    return recovered
      ? c.json({ status: "ready", failed_collections: failed }, 200)
      : c.json({ status: "recovering", failed_collections: failed }, 503);
  });
  if (metrics !== undefined) {
    const { registry } = metrics;
    app.get("/metrics", async (c) => {
      return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
    });
  }

  app.use("/api/*", async function requireReady(_c, next) {
    if (!engine.readiness().recovered) throw notReady();
    await next();
  });
  addCollectionRoutes(app, {
    engine,
    maxBodyBytes: config.server.maxBodyBytes,
    maxBatchPoints: config.server.maxBatchPoints,
    parsePool: services.parsePool,
  });
  addSnapshotRoutes(app, { engine, maxBodyBytes: config.server.maxBodyBytes });
  addTierRoutes(app, { engine, maxBodyBytes: config.server.maxBodyBytes });

  app.notFound((c) => {
    const error = new NotFoundError(`Cannot ${c.req.method} ${c.req.path}: no such route`, {
      code: "route_not_found",
    });
    return errorResponse(error, logger, c.req.raw);
  });
  app.onError((error, c) => errorResponse(error, logger, c.req.raw));
  return app;
}
