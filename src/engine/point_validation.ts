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
  const byId = new Map<PointId, { point: PointInput; metadataJson: string | undefined }>();
  for (const point of points) {
    checkPoint(point, dimension, metric);
    const metadataJson = serializeMetadata(point.metadata, point.id);
    byId.delete(point.id);
    byId.set(point.id, { point, metadataJson });
  }
  // Private copies (the caller may reuse its arrays while the write waits for the WAL), all in
  // one buffer: one allocation instead of one per point.
  const vectors = new Float32Array(byId.size * dimension);
  const prepared: PreparedPoint[] = [];
  for (const { point, metadataJson } of byId.values()) {
    const offset = prepared.length * dimension;
    vectors.set(point.vector, offset);
    prepared.push({
      id: point.id,
      vector: vectors.subarray(offset, offset + dimension),
      metadataJson,
      metadata: metadataJson === undefined ? undefined : JSON.parse(metadataJson),
    });
  }
  return prepared;
}

function subjectOf(id: PointId): string {
  return `Cannot upsert point ${formatPointId(id)}`;
}

/** Checks a point's shape, id and vector (metadata is checked when it is serialized). */
function checkPoint(
  point: PointInput,
  dimension: number,
  metric: Metric,
): asserts point is PointInput & { vector: Float32Array } {
  if (typeof point !== "object" || point === null) {
    throw new TypeError("Cannot upsert point: expected an object with id and vector");
  }
  const id = validatePointId(point.id, "upsert");
  checkVector(point.vector, dimension, metric, () => subjectOf(id));
}

/**
 * Checks a vector: a Float32Array of the right dimension, finite values, and a
 * non-zero norm under cosine.
 *
 * @param vector the candidate
 * @param dimension the expected dimension
 * @param metric the collection's metric
 * @param subject the message's start, e.g. `Cannot upsert point "a1"`, or a function building it
 *   (only when a check fails: upserts check a thousand vectors per batch)
 * @throws TypeError when it is not a Float32Array
 * @throws RangeError on a wrong dimension, a non-finite value or a zero cosine vector
 */
export function checkVector(
  vector: unknown,
  dimension: number,
  metric: Metric,
  subject: string | (() => string),
): asserts vector is Float32Array {
  const fail = (ErrorClass: typeof TypeError, problem: string): never => {
    throw new ErrorClass(`${typeof subject === "string" ? subject : subject()}: ${problem}`);
  };
  if (!(vector instanceof Float32Array)) fail(TypeError, "vector must be a Float32Array");
  const values = vector as Float32Array;
  if (values.length !== dimension) {
    fail(RangeError, `dimension is ${values.length}, expected ${dimension}`);
  }
  let normSquared = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isFinite(value)) {
      fail(RangeError, `vector[${i}] is ${value}, expected a finite number`);
    }
    normSquared += value * value;
  }
  if (metric === "cosine" && normSquared < COSINE_NORM_SQUARED_MIN) {
    fail(RangeError, "vector has a zero norm, cosine needs a non-zero vector");
  }
}

function serializeMetadata(metadata: unknown, id: PointId): string | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    const kind = metadata === null
      ? "null"
      : Array.isArray(metadata)
      ? "an array"
      : typeof metadata;
    throw new TypeError(`${subjectOf(id)}: metadata is ${kind}, expected a JSON object`);
  }
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch (error) {
    throw new TypeError(`${subjectOf(id)}: metadata is not serializable as JSON`, { cause: error });
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only long texts need counting.
  if (json.length * 3 <= LIMITS.metadataBytesMax) return json;
  const bytes = encoder.encode(json).byteLength;
  if (bytes > LIMITS.metadataBytesMax) {
    throw new RangeError(
      `${
        subjectOf(id)
      }: metadata is ${bytes} bytes serialized, expected at most ${LIMITS.metadataBytesMax}`,
    );
  }
  return json;
}
