/**
 * Request logging: one `debug` line per request with method, path, status
 * and duration.
 *
 * @module
 */

import type { Context, MiddlewareHandler, Next } from "hono";
import type { Logger } from "../obs/logger.ts";

/**
 * Builds the request-log middleware.
 *
 * @param logger Where lines go (at `debug`).
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { createLogger } from "../obs/logger.ts";
 * import { requestLog } from "./request_log.ts";
 * const lines: string[] = [];
 * const app = new Hono();
 * app.use(requestLog(createLogger({ level: "debug", sink: (line) => lines.push(line) })));
 * app.get("/x", (c) => c.text("ok"));
 * await app.request("/x");
 * assert.match(lines[0] ?? "", /"path":"\/x","status":200/);
 * ```
 */
export function requestLog(logger: Logger): MiddlewareHandler {
  return async function requestLog(c: Context, next: Next): Promise<void> {
    if (!logger.enabled("debug")) return await next();
    const startMs = performance.now();
    await next();
    logger.debug("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - startMs) * 1000) / 1000,
    });
  };
}
