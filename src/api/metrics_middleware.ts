/**
 * HTTP metrics and the request span: `akidb_http_requests_total{method,route,status}`
 * and `akidb_http_request_duration_seconds{method,route}`, labelled with the
 * matched ROUTE PATTERN (`/api/v1/collections/:c/search`), never the raw path,
 * so label values stay bounded: a request no route matches is `unmatched`,
 * an unusual method is `OTHER`.
 *
 * @module
 */

import type { Context, MiddlewareHandler, Next } from "hono";
import { matchedRoutes } from "hono/route";
import type { Metrics } from "../obs/metrics.ts";
import { sampledServerSpan, tracingEnabled, withRequestSpan } from "../obs/tracing.ts";

/** The `route` label of requests no route matched. */
export const UNMATCHED_ROUTE = "unmatched";

const METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

/**
 * Builds the metrics middleware; register it first, so it sees every response
 * (401s and 404s included).
 *
 * @param metrics The registry's handles.
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { createMetrics } from "../obs/metrics.ts";
 * import { httpMetrics } from "./metrics_middleware.ts";
 * const metrics = createMetrics({ defaultMetrics: false });
 * const app = new Hono();
 * app.use(httpMetrics(metrics));
 * app.get("/items/:id", (c) => c.text("ok"));
 * await app.request("/items/1");
 * await app.request("/items/2");
 * await app.request("/nowhere");
 * const text = await metrics.registry.metrics();
 * assert.match(text, /akidb_http_requests_total\{method="GET",route="\/items\/:id",status="200"\} 2/);
 * assert.match(text, /akidb_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
 * ```
 */
export function httpMetrics(metrics: Metrics): MiddlewareHandler {
  const { httpRequests, httpRequestDuration } = metrics;
  return async function httpMetrics(c: Context, next: Next): Promise<void> {
    const startMs = performance.now();
    const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
    const route = routeOf(c);
    let status = 500;
    try {
      if (tracingEnabled()) await traced(c, next, method, route);
      else await next();
      status = c.res.status;
    } finally {
      httpRequests.inc({ method, route, status: String(status) });
      httpRequestDuration.observe({ method, route }, (performance.now() - startMs) / 1000);
    }
  };
}

/**
 * For a request Deno's sampler kept: names Deno's server span by the route
 * and opens AkiDB's request span under it. Otherwise just runs the request.
 */
async function traced(c: Context, next: Next, method: string, route: string): Promise<void> {
  const server = sampledServerSpan();
  if (server === undefined) return await next();
  server.updateName(`${method} ${route}`);
  server.setAttribute("http.route", route);
  await withRequestSpan(`${method} ${route}`, { "http.route": route }, async (span) => {
    await next();
    span.setAttribute("http.response.status_code", c.res.status);
  });
}

/**
 * The pattern of the route that handles the request: the last matched
 * handler registered for a method (middleware are registered for `ALL`).
 */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i]!;
    if (route.method !== "ALL") return route.path;
  }
  return UNMATCHED_ROUTE;
}
