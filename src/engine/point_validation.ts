/**
 * Validation of a whole upsert batch before anything is written: ids,
 * dimension, finite values, non-zero norm under cosine, metadata shape and
 * size. A batch either passes entirely or is rejected with the first problem.
 *
 * @module
 */

import { formatPointId, type PointId, validatePointId } from "../index/mod.ts";
import type { Metric } from "../kernel/mod.ts";
import { LIMITS } from "../limits.ts";
import type { PointInput } from "./engine_types.ts";

/** A point ready for the WAL and memory: metadata both as JSON text and parsed. */
export interface PreparedPoint {
  readonly id: PointId;
  readonly vector: Float32Array;
  /** Serialized metadata (what the WAL stores), or undefined. */
  readonly metadataJson: string | undefined;
  /** A private copy of the metadata, parsed back from `metadataJson`. */
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}

/** Smallest squared norm a cosine vector may have: below it float32 normalization underflows. */
const COSINE_NORM_SQUARED_MIN = 1e-30;
const encoder = new TextEncoder();

/**
 * Checks a whole batch and prepares it. Duplicate ids in one batch: the last
 * occurrence wins (as if the points were written one after another), and only
 * it is kept.
 *
 * @param points the batch
 * @param dimension the collection's dimension
 * @param metric the collection's metric
 * @returns the distinct points, in order of their last occurrence
 * @throws TypeError when a point, vector or metadata has the wrong shape
 * @throws RangeError when an id, dimension, value or size is out of bounds, or the batch is empty
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareBatch } from "./point_validation.ts";
 * const v = new Float32Array([1, 0]);
 * const batch = prepareBatch([{ id: 1, vector: v }, { id: 1, vector: v, metadata: { a: 1 } }], 2, "l2");
 * assert.equal(batch.length, 1);
 * assert.equal(batch[0]?.metadataJson, '{"a":1}');
 * assert.throws(() => prepareBatch([{ id: 2, vector: new Float32Array(3) }], 2, "l2"), RangeError);
 * ```
 */
export function prepareBatch(
  points: readonly PointInput[],
  dimension: number,
  metric: Metric,
): PreparedPoint[] {
  if (points.length === 0) throw new RangeError("Cannot upsert: the batch holds no points");
  const byId = new Map<PointId, PreparedPoint>();
  for (const point of points) {
    const prepared = preparePoint(point, dimension, metric);
    byId.delete(prepared.id);
    byId.set(prepared.id, prepared);
  }
  return [...byId.values()];
}

function preparePoint(point: PointInput, dimension: number, metric: Metric): PreparedPoint {
  if (typeof point !== "object" || point === null) {
    throw new TypeError("Cannot upsert point: expected an object with id and vector");
  }
  const id = validatePointId(point.id, "upsert");
  const subject = `Cannot upsert point ${formatPointId(id)}`;
  checkVector(point.vector, dimension, metric, subject);
  const metadataJson = serializeMetadata(point.metadata, subject);
  return {
    id,
    // A private copy: the caller may reuse its array while the write waits for the WAL.
    vector: new Float32Array(point.vector),
    metadataJson,
    metadata: metadataJson === undefined ? undefined : JSON.parse(metadataJson),
  };
}

/**
 * Checks a vector: a Float32Array of the right dimension, finite values, and a
 * non-zero norm under cosine.
 *
 * @param vector the candidate
 * @param dimension the expected dimension
 * @param metric the collection's metric
 * @param subject the message's start, e.g. `Cannot upsert point "a1"`
 * @throws TypeError when it is not a Float32Array
 * @throws RangeError on a wrong dimension, a non-finite value or a zero cosine vector
 */
export function checkVector(
  vector: unknown,
  dimension: number,
  metric: Metric,
  subject: string,
): asserts vector is Float32Array {
  if (!(vector instanceof Float32Array)) {
    throw new TypeError(`${subject}: vector must be a Float32Array`);
  }
  if (vector.length !== dimension) {
    throw new RangeError(`${subject}: dimension is ${vector.length}, expected ${dimension}`);
  }
  let normSquared = 0;
  for (let i = 0; i < vector.length; i++) {
    const value = vector[i]!;
    if (!Number.isFinite(value)) {
      throw new RangeError(`${subject}: vector[${i}] is ${value}, expected a finite number`);
    }
    normSquared += value * value;
  }
  if (metric === "cosine" && normSquared < COSINE_NORM_SQUARED_MIN) {
    throw new RangeError(`${subject}: vector has a zero norm, cosine needs a non-zero vector`);
  }
}

function serializeMetadata(metadata: unknown, subject: string): string | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    const kind = metadata === null
      ? "null"
      : Array.isArray(metadata)
      ? "an array"
      : typeof metadata;
    throw new TypeError(`${subject}: metadata is ${kind}, expected a JSON object`);
  }
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch (error) {
    throw new TypeError(`${subject}: metadata is not serializable as JSON`, { cause: error });
  }
  const bytes = encoder.encode(json).byteLength;
  if (bytes > LIMITS.metadataBytesMax) {
    throw new RangeError(
      `${subject}: metadata is ${bytes} bytes serialized, expected at most ${LIMITS.metadataBytesMax}`,
    );
  }
  return json;
}
