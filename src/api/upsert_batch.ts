/**
 * An upsert body from bytes to points: UTF-8 → JSON → shape and values
 * (`validate_request.ts`) → the collection's dimension, with the vectors
 * packed into one `Float32Array`. The request thread and the parse workers
 * (`parse_worker.ts`) run this same code, so a body gets the same answer —
 * the same points or the same error — whichever parses it. Errors cross the
 * thread boundary as {@linkcode WireError} and are revived as the very class,
 * code and message that the request thread would have thrown.
 *
 * @module
 */

import type { PointInput } from "../engine/engine_types.ts";
import { formatPointId, type PointId } from "../index/point_id.ts";
import { ApiError, type ApiErrorOptions } from "./api_error.ts";
import { parseJsonBytes } from "./read_json_body.ts";
import { checkDimension, parseUpsert } from "./validate_request.ts";

/** A whole upsert batch, parsed and checked against the collection's dimension. */
export interface ParsedUpsert {
  readonly ids: PointId[];
  /** `ids.length × dimension` floats, row-major, in a buffer of its own (transferable). */
  readonly vectors: Float32Array;
  readonly dimension: number;
  /** The metadata object of each point, or undefined. */
  readonly metadata: (Readonly<Record<string, unknown>> | undefined)[];
}

/**
 * Parses and validates an upsert body. With `dimension` undefined (the
 * collection could not be looked up) only the body is checked: a bad body is
 * still reported first, as when the request thread parsed everything itself.
 *
 * @param bytes The body.
 * @param maxBatchPoints The most points one request may carry.
 * @param dimension The collection's dimension, or undefined when unknown.
 * @returns The batch, or undefined when `dimension` is undefined and the body is valid.
 * @throws {SyntaxError} 400 when the body is not UTF-8 JSON.
 * @throws {TypeError} 400 on a wrong shape.
 * @throws {RangeError} 422 on invalid values or a dimension mismatch (`dimension_mismatch`).
 * @throws {ApiError} 413 `batch_too_large` over `maxBatchPoints`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUpsertBytes } from "./upsert_batch.ts";
 * const body = new TextEncoder().encode('{"vectors":[{"id":1,"vector":[1,2]},{"id":"b","vector":[3,4]}]}');
 * const batch = parseUpsertBytes(body, 10, 2);
 * assert.deepEqual(batch?.ids, [1, "b"]);
 * assert.deepEqual(batch?.vectors, new Float32Array([1, 2, 3, 4]));
 * assert.throws(() => parseUpsertBytes(body, 10, 3), /dimension is 2, expected 3/);
 * ```
 */
export function parseUpsertBytes(
  bytes: Uint8Array,
  maxBatchPoints: number,
  dimension: number | undefined,
): ParsedUpsert | undefined {
  const points = parseUpsert(parseJsonBytes(bytes), maxBatchPoints);
  if (dimension === undefined) return undefined;
  const vectors = new Float32Array(points.length * dimension);
  const ids: PointId[] = [];
  const metadata: (Readonly<Record<string, unknown>> | undefined)[] = [];
  for (const point of points) {
    checkDimension(point.vector, dimension, `upsert point ${formatPointId(point.id)}`);
    vectors.set(point.vector, ids.length * dimension);
    ids.push(point.id);
    metadata.push(point.metadata);
  }
  return { ids, vectors, dimension, metadata };
}

/**
 * The engine's points of a parsed batch; vectors are views into `batch.vectors`.
 *
 * @param batch The parsed batch.
 * @returns One point per id, in order.
 */
export function toPointInputs(batch: ParsedUpsert): PointInput[] {
  const { ids, vectors, dimension, metadata } = batch;
  return ids.map((id, row) => {
    const vector = vectors.subarray(row * dimension, (row + 1) * dimension);
    const meta = metadata[row];
    return meta === undefined ? { id, vector } : { id, vector, metadata: meta };
  });
}

/** An error as it crosses from a parse worker to the request thread. */
export type WireError =
  | {
    readonly kind: "SyntaxError" | "TypeError" | "RangeError" | "Error";
    readonly message: string;
    readonly code: string | undefined;
  }
  | {
    readonly kind: "ApiError";
    readonly message: string;
    readonly code: string;
    readonly status: ApiError["status"];
    readonly headers: Readonly<Record<string, string>>;
  };

/**
 * Turns a thrown value into a {@linkcode WireError}.
 *
 * @param error Whatever was thrown.
 * @returns Its class, message, code (and status and headers for an `ApiError`).
 */
export function toWireError(error: unknown): WireError {
  if (error instanceof ApiError) {
    const { message, code, status, headers } = error;
    return { kind: "ApiError", message, code, status, headers };
  }
  const code = (error as { code?: unknown } | null)?.code;
  const wireCode = typeof code === "string" ? code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  for (const kind of ["SyntaxError", "TypeError", "RangeError"] as const) {
    if (error instanceof globalThis[kind]) return { kind, message, code: wireCode };
  }
  return { kind: "Error", message, code: wireCode };
}

/**
 * The error a {@linkcode WireError} describes, of the same class with the same message and code.
 *
 * @param wire The error from the worker.
 * @returns An error the app's error map renders exactly as the original.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromWireError, toWireError } from "./upsert_batch.ts";
 * const error = fromWireError(toWireError(Object.assign(new RangeError("bad"), { code: "invalid_vector" })));
 * assert.ok(error instanceof RangeError);
 * assert.equal((error as RangeError & { code: string }).code, "invalid_vector");
 * ```
 */
export function fromWireError(wire: WireError): Error {
  if (wire.kind === "ApiError") {
    const options: ApiErrorOptions = { headers: wire.headers };
    return new ApiError(wire.status, wire.code, wire.message, options);
  }
  const error = new globalThis[wire.kind](wire.message);
  return wire.code === undefined ? error : Object.assign(error, { code: wire.code });
}
