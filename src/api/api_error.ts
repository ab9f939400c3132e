/**
 * Errors that only the HTTP layer raises: a missing or wrong API key, a body
 * over the limit, a server that is not ready yet. Each carries its status and
 * a stable code; {@linkcode errorResponse} turns it into a response like any
 * other error.
 *
 * @module
 */

/** Options of an {@linkcode ApiError}. */
export interface ApiErrorOptions {
  /** The lower-level error that caused this one. */
  readonly cause?: unknown;
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * An error of the HTTP layer with its own status: 401, 403, 413 or 503.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiError } from "./api_error.ts";
 * const error = new ApiError(413, "payload_too_large", "Cannot read body: it exceeds 1048576 bytes");
 * assert.equal(error.status, 413);
 * assert.equal(error.name, "ApiError");
 * ```
 */
export class ApiError extends Error {
  /** The HTTP status. */
  readonly status: 401 | 403 | 413 | 503;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Extra response headers. */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param status The HTTP status.
   * @param code Stable machine-readable code.
   * @param message Human-readable message, action first.
   * @param options Cause and extra headers.
   */
  constructor(
    status: 401 | 403 | 413 | 503,
    code: string,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }
}

/**
 * The error of a request that arrives while the engine is still recovering.
 *
 * @returns A 503 `not_ready` error with `Retry-After: 1`.
 */
export function notReady(): ApiError {
  return new ApiError(
    503,
    "not_ready",
    "Cannot serve the request: the server is still recovering",
    {
      headers: { "retry-after": "1" },
    },
  );
}
