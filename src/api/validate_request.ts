/**
 * Request validation: the shape of every body and path parameter, turned into
 * the engine's typed, camelCase requests. The rule for the status:
 *
 * - **400** (`TypeError`/`SyntaxError`): the request cannot be read as the
 *   expected shape — not JSON, not an object, a required field missing, a
 *   field of the wrong JSON type, an unknown field, a malformed path.
 * - **422** (`RangeError`): valid JSON of the right shape whose values are
 *   invalid — a vector element that is not a finite float32 (a string, `null`,
 *   `1e999`), an empty vector, `k`/`ef`/`dimension`/HNSW values out of range,
 *   an unknown metric, a name that breaks the naming rule; the engine adds
 *   dimension mismatches, id sizes and metadata sizes.
 * - **413** (`ApiError`): a batch of more points than `server.max_batch_points`
 *   (like a body over `server.max_body_bytes`: the request is too large).
 *
 * @module
 */

import type {
  CollectionSpec,
  Filter,
  FilterCondition,
  PointInput,
  SearchRequest,
} from "../engine/engine_types.ts";
import { isMetric, METRICS } from "../kernel/metric.ts";
import { LIMITS } from "../limits.ts";
import { ApiError } from "./api_error.ts";

type Json = Record<string, unknown>;

/**
 * Checks a collection id or name taken from a path.
 *
 * @param raw The decoded path segment.
 * @returns The same string.
 * @throws {TypeError} 400 `invalid_collection_ref` unless it matches the name pattern (which ids match too).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCollectionRef } from "./validate_request.ts";
 * assert.equal(parseCollectionRef("docs_v2"), "docs_v2");
 * assert.throws(() => parseCollectionRef("../x"), TypeError);
 * ```
 */
export function parseCollectionRef(raw: string): string {
  if (!LIMITS.collectionNamePattern.test(raw)) {
    throw typeError(
      `Cannot find collection ${quote(raw)}: not a collection id or name`,
      "invalid_collection_ref",
    );
  }
  return raw;
}

/** A point id from a path: the string, and the integer when the string is all digits. */
export interface PathPointId {
  readonly text: string;
  readonly integer: number | undefined;
}

/**
 * Reads a point id from a path. Ids in paths are strings; an all-digit id
 * that is a safe integer may also name the integer id (the route tries the
 * string first).
 *
 * @param raw The decoded path segment.
 * @returns The string form and, for all-digit ids, the integer form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePathPointId } from "./validate_request.ts";
 * assert.deepEqual(parsePathPointId("42"), { text: "42", integer: 42 });
 * assert.deepEqual(parsePathPointId("a1"), { text: "a1", integer: undefined });
 * ```
 */
export function parsePathPointId(raw: string): PathPointId {
  const integer = /^\d{1,16}$/.test(raw) && Number.isSafeInteger(Number(raw))
    ? Number(raw)
    : undefined;
  return { text: raw, integer };
}

/**
 * Parses `POST /api/v1/collections`.
 *
 * @param body The parsed JSON body.
 * @returns The collection spec.
 * @throws {TypeError} On a wrong shape (400).
 * @throws {RangeError} On invalid values (422).
 */
export function parseCreateCollection(body: unknown): CollectionSpec {
  const object = expectObject(body, "create collection", "body");
  allowOnly(object, ["name", "dimension", "metric", "hnsw"], "create collection");
  const name = expectString(object.name, "create collection", "name");
  if (!LIMITS.collectionNamePattern.test(name)) {
    throw rangeError(
      `Cannot create collection ${quote(name)}: a name is 1..${LIMITS.collectionNameLengthMax} ` +
        "letters, digits, _ or -, starting with a letter or digit",
      "invalid_collection_name",
    );
  }
  const action = `create collection ${quote(name)}`;
  const dimension = expectInteger(object.dimension, action, "dimension", [
    LIMITS.dimensionMin,
    LIMITS.dimensionMax,
  ]);
  const metric = expectString(object.metric, action, "metric");
  if (!isMetric(metric)) {
    throw rangeError(
      `Cannot ${action}: metric is ${quote(metric)}, expected one of ${METRICS.join(", ")}`,
      "invalid_metric",
    );
  }
  if (object.hnsw === undefined) return { name, dimension, metric };
  return { name, dimension, metric, hnsw: parseHnsw(object.hnsw, action) };
}

function parseHnsw(value: unknown, action: string): NonNullable<CollectionSpec["hnsw"]> {
  const object = expectObject(value, action, "hnsw");
  allowOnly(object, ["m", "ef_construction", "ef_search"], action, "hnsw.");
  const hnsw: { m?: number; efConstruction?: number; efSearch?: number } = {};
  if (object.m !== undefined) {
    hnsw.m = expectInteger(object.m, action, "hnsw.m", [LIMITS.mMin, LIMITS.mMax]);
  }
  if (object.ef_construction !== undefined) {
    hnsw.efConstruction = expectInteger(object.ef_construction, action, "hnsw.ef_construction", [
      LIMITS.efConstructionMin,
      LIMITS.efConstructionMax,
    ]);
  }
  if (object.ef_search !== undefined) {
    hnsw.efSearch = expectInteger(object.ef_search, action, "hnsw.ef_search", [
      LIMITS.efSearchMin,
      LIMITS.efSearchMax,
    ]);
  }
  return hnsw;
}

/**
 * Parses `POST …/vectors`: one point `{"id","vector","metadata"?}` or `{"vectors":[…]}`.
 *
 * @param body The parsed JSON body.
 * @param maxBatchPoints The most points one request may carry.
 * @returns The points, vectors as `Float32Array`.
 * @throws {TypeError} On a wrong shape (400).
 * @throws {RangeError} On invalid values (422).
 * @throws {ApiError} 413 `batch_too_large` over `maxBatchPoints`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUpsert } from "./validate_request.ts";
 * const [point] = parseUpsert({ id: "a", vector: [1, 2] }, 10);
 * assert.deepEqual(point?.vector, new Float32Array([1, 2]));
 * assert.throws(() => parseUpsert({ id: "a", vector: [1, "2"] }, 10), /vector\[1\] is a string/);
 * ```
 */
export function parseUpsert(body: unknown, maxBatchPoints: number): PointInput[] {
  const object = expectObject(body, "upsert", "body");
  if (!("vectors" in object)) return [parsePoint(object, "")];
  allowOnly(object, ["vectors"], "upsert");
  const points = object.vectors;
  if (!Array.isArray(points)) {
    throw typeError(`Cannot upsert: vectors is ${kind(points)}, expected an array of points`);
  }
  if (points.length === 0) {
    throw rangeError("Cannot upsert: vectors is empty, expected at least one point", "empty_batch");
  }
  if (points.length > maxBatchPoints) {
    throw new ApiError(
      413,
      "batch_too_large",
      `Cannot upsert: the batch has ${points.length} points, expected at most ${maxBatchPoints}`,
    );
  }
  return points.map((point, index) =>
    parsePoint(expectObject(point, "upsert", `vectors[${index}]`), `vectors[${index}].`)
  );
}

function parsePoint(object: Json, where: string): PointInput {
  allowOnly(object, ["id", "vector", "metadata"], "upsert", where);
  const id = object.id;
  if (typeof id !== "string" && typeof id !== "number") {
    throw typeError(
      `Cannot upsert point: ${where}id is ${kind(id)}, expected a string or an integer`,
    );
  }
  const action = `upsert point ${typeof id === "string" ? quote(id) : String(id)}`;
  const vector = parseVector(object.vector, action, `${where}vector`);
  const metadata = object.metadata;
  if (metadata === undefined || metadata === null) return { id, vector };
  return { id, vector, metadata: expectObject(metadata, action, `${where}metadata`) };
}

/**
 * Parses `POST …/search`.
 *
 * @param body The parsed JSON body.
 * @returns The search request; HTTP `ef` becomes `efSearch`, `must_not` becomes `mustNot`.
 * @throws {TypeError} On a wrong shape (400).
 * @throws {RangeError} On invalid values (422).
 */
export function parseSearch(body: unknown): SearchRequest {
  const action = "search";
  const object = expectObject(body, action, "body");
  allowOnly(object, ["vector", "k", "ef", "filter", "include_vector", "include_metadata"], action);
  const vector = parseVector(object.vector, action, "vector");
  const k = expectInteger(object.k, action, "k", [LIMITS.kMin, LIMITS.kMax]);
  const efSearch = object.ef === undefined || object.ef === null
    ? undefined
    : expectInteger(object.ef, action, "ef", [LIMITS.efSearchMin, LIMITS.efSearchMax]);
  const filter = object.filter === undefined || object.filter === null
    ? undefined
    : parseFilter(object.filter);
  return {
    vector,
    k,
    efSearch,
    filter,
    includeVector: optionalBoolean(object.include_vector, "include_vector", false),
    includeMetadata: optionalBoolean(object.include_metadata, "include_metadata", true),
  };
}

function parseFilter(value: unknown): Filter {
  const object = expectObject(value, "search", "filter");
  allowOnly(object, ["must", "must_not"], "search", "filter.");
  const must = conditions(object.must, "filter.must");
  const mustNot = conditions(object.must_not, "filter.must_not");
  const count = must.length + mustNot.length;
  if (count > LIMITS.filterConditionsMax) {
    throw rangeError(
      `Cannot search: the filter has ${count} conditions, expected at most ${LIMITS.filterConditionsMax}`,
      "filter_too_large",
    );
  }
  return { must, mustNot };
}

function conditions(value: unknown, where: string): FilterCondition[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw typeError(`Cannot search: ${where} is ${kind(value)}, expected an array of conditions`);
  }
  if (value.length > LIMITS.filterConditionsMax) {
    throw rangeError(
      `Cannot search: ${where} has ${value.length} conditions, expected at most ${LIMITS.filterConditionsMax}`,
      "filter_too_large",
    );
  }
  return value.map((item, index) => condition(item, `${where}[${index}]`));
}

function condition(value: unknown, where: string): FilterCondition {
  const object = expectObject(value, "search", where);
  const key = expectString(object.key, "search", `${where}.key`);
  if ("range" in object) {
    allowOnly(object, ["key", "range"], "search", `${where}.`);
    return { key, range: parseRange(object.range, `${where}.range`) };
  }
  allowOnly(object, ["key", "match"], "search", `${where}.`);
  const match = object.match;
  if (isScalar(match)) return { key, match };
  const any = expectObject(match, "search", `${where}.match`);
  allowOnly(any, ["any"], "search", `${where}.match.`);
  if (!Array.isArray(any.any) || !any.any.every(isScalar)) {
    throw typeError(
      `Cannot search: ${where}.match.any is ${
        kind(any.any)
      }, expected an array of strings, numbers or booleans`,
    );
  }
  if (any.any.length > LIMITS.filterMatchAnyValuesMax) {
    throw rangeError(
      `Cannot search: ${where}.match.any has ${any.any.length} values, expected at most ${LIMITS.filterMatchAnyValuesMax}`,
      "filter_too_large",
    );
  }
  return { key, match: { any: any.any } };
}

function parseRange(
  value: unknown,
  where: string,
): { gt?: number; gte?: number; lt?: number; lte?: number } {
  const object = expectObject(value, "search", where);
  allowOnly(object, ["gt", "gte", "lt", "lte"], "search", `${where}.`);
  const range: { gt?: number; gte?: number; lt?: number; lte?: number } = {};
  for (const bound of ["gt", "gte", "lt", "lte"] as const) {
    const given = object[bound];
    if (given === undefined) continue;
    if (typeof given !== "number") {
      throw typeError(`Cannot search: ${where}.${bound} is ${kind(given)}, expected a number`);
    }
    if (!Number.isFinite(given)) {
      throw rangeError(`Cannot search: ${where}.${bound} is ${given}, expected a finite number`);
    }
    range[bound] = given;
  }
  if (Object.keys(range).length === 0) {
    throw typeError(`Cannot search: ${where} is empty, expected at least one of gt, gte, lt, lte`);
  }
  return range;
}

/**
 * Parses a JSON vector into a `Float32Array`: every element a number that is
 * finite as a float32.
 *
 * @param value The JSON value.
 * @param action What is being done, for messages.
 * @param where The field's path, for messages.
 * @returns The vector.
 * @throws {TypeError} When it is not an array (400).
 * @throws {RangeError} When it is empty, too long, or an element is not a finite float32 (422, `invalid_vector`).
 */
export function parseVector(value: unknown, action: string, where: string): Float32Array {
  if (!Array.isArray(value)) {
    throw typeError(`Cannot ${action}: ${where} is ${kind(value)}, expected an array of numbers`);
  }
  if (value.length < LIMITS.dimensionMin || value.length > LIMITS.dimensionMax) {
    throw rangeError(
      `Cannot ${action}: ${where} has ${value.length} elements, expected ${LIMITS.dimensionMin}..${LIMITS.dimensionMax}`,
      "invalid_vector",
    );
  }
  const vector = new Float32Array(value.length);
  for (let index = 0; index < value.length; index++) {
    const element: unknown = value[index];
    if (typeof element !== "number") {
      throw rangeError(
        `Cannot ${action}: ${where}[${index}] is ${kind(element)}, expected a finite number`,
        "invalid_vector",
      );
    }
    vector[index] = element;
    if (!Number.isFinite(vector[index])) {
      throw rangeError(
        `Cannot ${action}: ${where}[${index}] is ${element}, expected a finite float32`,
        "invalid_vector",
      );
    }
  }
  return vector;
}

/**
 * Checks a vector against the collection's dimension at the edge, so the
 * error carries DESIGN.md's code `dimension_mismatch` (the engine checks
 * again, without a code).
 *
 * @param vector The parsed vector.
 * @param dimension The collection's dimension.
 * @param action What is being done, for the message.
 * @throws {RangeError} 422 `dimension_mismatch` when the lengths differ.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDimension } from "./validate_request.ts";
 * assert.throws(() => checkDimension(new Float32Array(2), 3, "search"), /dimension is 2, expected 3/);
 * ```
 */
export function checkDimension(vector: Float32Array, dimension: number, action: string): void {
  if (vector.length === dimension) return;
  throw Object.assign(
    new RangeError(`Cannot ${action}: dimension is ${vector.length}, expected ${dimension}`),
    { code: "dimension_mismatch" },
  );
}

function expectObject(value: unknown, action: string, where: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw typeError(`Cannot ${action}: ${where} is ${kind(value)}, expected an object`);
  }
  return value as Json;
}

function expectString(value: unknown, action: string, where: string): string {
  if (typeof value !== "string") {
    throw typeError(`Cannot ${action}: ${where} is ${kind(value)}, expected a string`);
  }
  return value;
}

function expectInteger(
  value: unknown,
  action: string,
  where: string,
  [min, max]: readonly [number, number],
): number {
  if (typeof value !== "number") {
    throw typeError(`Cannot ${action}: ${where} is ${kind(value)}, expected an integer`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(`Cannot ${action}: ${where} is ${value}, expected an integer ${min}..${max}`);
  }
  return value;
}

function optionalBoolean(value: unknown, where: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") {
    throw typeError(`Cannot search: ${where} is ${kind(value)}, expected a boolean`);
  }
  return value;
}

function allowOnly(object: Json, allowed: readonly string[], action: string, prefix = ""): void {
  for (const field of Object.keys(object)) {
    if (!allowed.includes(field)) {
      throw typeError(
        `Cannot ${action}: unknown field ${quote(prefix + field)}, expected ${allowed.join(", ")}`,
        "unknown_field",
      );
    }
  }
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value));
}

/** How a JSON value reads in a message: `a string`, `null`, `an array`, … */
function kind(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `a string (${quote(value)})`;
  return `a ${typeof value}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function typeError(message: string, code = "invalid_request"): TypeError {
  return Object.assign(new TypeError(message), { code });
}

function rangeError(message: string, code = "invalid_value"): RangeError {
  return Object.assign(new RangeError(message), { code });
}
