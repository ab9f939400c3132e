/**
 * Point ids: a UTF-8 string of 1..256 bytes, or a non-negative safe integer.
 * `"7"` and `7` are different ids.
 *
 * @module
 */

import { LIMITS } from "../limits.ts";

/** A point's id. */
export type PointId = string | number;

const encoder = new TextEncoder();

/**
 * Checks a point id.
 *
 * @param id the candidate
 * @param action what is being done, for the message (e.g. `upsert`)
 * @returns the id, typed
 * @throws TypeError when it is neither a string nor a number
 * @throws RangeError when it is empty, too long, negative, fractional or unsafe
 *
 * @example
 * ```ts
 * import { validatePointId } from "./point_id.ts";
 * validatePointId("doc-1", "upsert");
 * validatePointId(42, "upsert");
 * let failed = false;
 * try { validatePointId(-1, "upsert"); } catch { failed = true; }
 * if (!failed) throw new Error("negative ids must fail");
 * ```
 */
export function validatePointId(id: unknown, action: string): PointId {
  if (typeof id === "string") {
    const bytes = encoder.encode(id).byteLength;
    if (bytes < LIMITS.pointIdBytesMin || bytes > LIMITS.pointIdBytesMax) {
      throw new RangeError(
        `Cannot ${action} point ${
          JSON.stringify(id.slice(0, 32))
        }: id is ${bytes} bytes, expected ${LIMITS.pointIdBytesMin}..${LIMITS.pointIdBytesMax}`,
      );
    }
    return id;
  }
  if (typeof id === "number") {
    if (!Number.isSafeInteger(id) || id < LIMITS.pointIdIntegerMin) {
      throw new RangeError(
        `Cannot ${action} point ${id}: an integer id must be a safe integer ≥ ${LIMITS.pointIdIntegerMin}`,
      );
    }
    return id;
  }
  throw new TypeError(
    `Cannot ${action} point: id is ${typeof id}, expected a string or an integer`,
  );
}

/**
 * A point id as it reads in messages: strings quoted, integers bare.
 *
 * @param id the id
 * @returns its display form
 */
export function formatPointId(id: PointId): string {
  return typeof id === "string" ? JSON.stringify(id) : String(id);
}
