/**
 * Maps AWS SDK errors to `NotFoundError` or `ObjectStoreError`. Private to
 * this folder.
 *
 * @module
 */

import { NotFoundError } from "../../errors.ts";
import { ObjectStoreError, type ObjectStoreErrorKind } from "./object_store_error.ts";

const THROTTLING_NAMES: ReadonlySet<string> = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
]);

const TIMEOUT_NAMES: ReadonlySet<string> = new Set([
  "AbortError",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

const NOT_FOUND_NAMES: ReadonlySet<string> = new Set(["NoSuchKey", "NotFound"]);

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  const status = metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

function nameOf(error: unknown): string {
  if (typeof error !== "object" || error === null) return "";
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (typeof code === "string" && code !== "" && !/^\d+$/.test(code)) {
    return TIMEOUT_NAMES.has(code) || THROTTLING_NAMES.has(code) ? code : String(name ?? "");
  }
  return typeof name === "string" ? name : "";
}

/**
 * Classifies an SDK error into the kind of an `ObjectStoreError`.
 *
 * @param error What the SDK threw.
 * @returns The kind, or `not_found`.
 */
export function classifyS3Error(error: unknown): ObjectStoreErrorKind | "not_found" {
  if (error instanceof ObjectStoreError) return error.kind;
  const status = statusOf(error);
  const name = nameOf(error);
  if (NOT_FOUND_NAMES.has(name) || status === 404) return "not_found";
  if (status === 429 || THROTTLING_NAMES.has(name)) return "throttled";
  if (status === 408 || TIMEOUT_NAMES.has(name)) return "timeout";
  if (status !== undefined && status >= 500) return "server";
  if (status !== undefined && status >= 400) return "client";
  // No HTTP response: the connection was refused, reset or cut short.
  return "network";
}

/**
 * Converts an SDK error into the error the object store throws.
 *
 * @param error What the SDK threw.
 * @param action What was attempted, e.g. `get object "collections/…"`.
 * @returns A NotFoundError or an ObjectStoreError carrying the original as cause.
 */
export function toObjectStoreError(error: unknown, action: string): Error {
  if (error instanceof ObjectStoreError || error instanceof NotFoundError) return error;
  const kind = classifyS3Error(error);
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (kind === "not_found") {
    return new NotFoundError(`Cannot ${action}: no such object`, {
      cause: error,
      code: "object_not_found",
    });
  }
  const statusCode = statusOf(error);
  return new ObjectStoreError(`Cannot ${action}: ${kind} error (${reason})`, {
    kind,
    cause: error,
    ...(statusCode === undefined ? {} : { statusCode }),
  });
}
