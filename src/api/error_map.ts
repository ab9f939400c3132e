/**
 * The one error→HTTP map of AkiDB. `app.onError` (and `app.notFound`) are
 * its only callers; handlers and middleware just throw.
 *
 * | error | status | code (unless the error carries one) |
 * |---|---|---|
 * | `SyntaxError` | 400 | `invalid_json` |
 * | `TypeError` | 400 | `invalid_request` |
 * | `RangeError` | 422 | `invalid_value` |
 * | `NotFoundError` | 404 | `not_found` |
 * | `ConflictError` | 409 | `conflict` |
 * | `CapacityError` | 507, or 503 + `Retry-After` when its code names an overload, loading or shutdown | `insufficient_capacity` |
 * | `CorruptionError` with code `snapshot_corrupt` | 422 | `snapshot_corrupt` (the message names the file) |
 * | `CorruptionError` | 503 | `data_corrupted` (message generic, details logged) |
 * | `ObjectStoreError` (S3 trouble on a path that needs S3: cold promotion, demotion to cold) | 503 + `Retry-After` | `object_store_<kind>` |
 * | `ApiError` | its own (401, 403, 413, 503) | its own |
 * | Hono `HTTPException` | its own | `http_error` |
 * | anything else | 500 | `internal` (message generic, details logged) |
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";
import { CapacityError, ConflictError, CorruptionError, NotFoundError } from "../errors.ts";
import type { Logger } from "../obs/logger.ts";
import { ApiError } from "./api_error.ts";
import { ObjectStoreError } from "../engine/mod.ts";

/** The body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** A status, code, message and extra headers chosen for an error. */
export interface MappedError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Codes of a `CapacityError` that mean "busy or not yet available, retry soon"
 * (a full queue, a collection still loading, a server shutting down) rather
 * than "out of space".
 */
const OVERLOAD_CODE = /overload|queue|busy|pending|backpressure|loading|recovering|shutting_down/;

/**
 * Chooses the status, code and message for an error. Pure: it logs nothing.
 *
 * @param error Whatever was thrown.
 * @returns The status, code, message and headers of the response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapError } from "./error_map.ts";
 * assert.equal(mapError(new RangeError("Cannot search: k is 0, expected 1..1000")).status, 422);
 * assert.equal(mapError(new Error("secret internals")).message, "Cannot complete the request: internal error");
 * ```
 */
export function mapError(error: unknown): MappedError {
  if (error instanceof ApiError) {
    return mapped(error.status, error.code, error.message, error.headers);
  }
  if (error instanceof NotFoundError) return mapped(404, error.code ?? "not_found", error.message);
  if (error instanceof ConflictError) return mapped(409, error.code ?? "conflict", error.message);
  if (error instanceof CapacityError) {
    const code = error.code ?? "insufficient_capacity";
    return OVERLOAD_CODE.test(code)
      ? mapped(503, code, error.message, { "retry-after": "1" })
      : mapped(507, code, error.message);
  }
  if (error instanceof CorruptionError && error.code === "snapshot_corrupt") {
    // A snapshot asked for by name failed verification; the collection itself is fine.
    return mapped(422, "snapshot_corrupt", error.message);
  }
  if (error instanceof CorruptionError) {
    return mapped(
      503,
      error.code ?? "data_corrupted",
      "Cannot use the collection: its stored data failed an integrity check; " +
        "see the server log and restore from a snapshot",
    );
  }
  if (error instanceof ObjectStoreError) {
    return mapped(503, error.code, error.message, { "retry-after": "5" });
  }
  if (error instanceof SyntaxError) {
    return mapped(400, codeOf(error, "invalid_json"), error.message);
  }
  if (error instanceof TypeError) {
    return mapped(400, codeOf(error, "invalid_request"), error.message);
  }
  if (error instanceof RangeError) {
    return mapped(422, codeOf(error, "invalid_value"), error.message);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return mapped(error.status, "http_error", error.message || "Cannot serve the request");
  }
  return mapped(500, "internal", "Cannot complete the request: internal error");
}

/**
 * Turns an error into the JSON error response, logging it: 5xx at `error`
 * (with the real error), 4xx at `debug`.
 *
 * @param error Whatever was thrown.
 * @param logger Where the real error goes.
 * @param request What was asked, for the log line.
 * @returns The response: `{"error":{"code","message"}}` with the mapped status.
 */
export function errorResponse(error: unknown, logger: Logger, request: Request): Response {
  const { status, code, message, headers } = mapError(error);
  const fields = { method: request.method, path: new URL(request.url).pathname, status, code };
  if (status >= 500) logger.error("request failed", { ...fields, error });
  else logger.debug("request rejected", { ...fields, message });
  const body: ErrorBody = { error: { code, message } };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function mapped(
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): MappedError {
  return { status, code, message, headers };
}

/** The `code` a built-in error may carry (the engine sets e.g. `dimension_mismatch`). */
function codeOf(error: Error, fallback: string): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : fallback;
}
