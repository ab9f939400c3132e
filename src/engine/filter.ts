/**
 * Search filters (DESIGN.md): `must` conditions all hold, no `mustNot`
 * condition holds. A condition matches a metadata key against a value
 * (`match`), any of several values (`match.any`) or a numeric range
 * (`range` with `gt`/`gte`/`lt`/`lte`). A key is looked up as written first,
 * then as a dotted path into nested objects (`"a.b"` → `metadata.a.b`). When
 * the value found is an array, the condition holds if it holds for any element
 * (Qdrant's convention). A missing key never matches.
 *
 * @module
 */

import { LIMITS } from "../limits.ts";
import type { Filter } from "./engine_types.ts";

/** Decides whether one point's metadata passes the filter. */
export type MetadataPredicate = (
  metadata: Readonly<Record<string, unknown>> | undefined,
) => boolean;

type Scalar = string | number | boolean;
type Test = (value: unknown) => boolean;
type Condition = (metadata: Readonly<Record<string, unknown>> | undefined) => boolean;

const RANGE_KEYS = ["gt", "gte", "lt", "lte"] as const;

/**
 * Validates a filter and compiles it into a predicate.
 *
 * @param filter the filter as the API parsed it (`must_not` is accepted as an alias of `mustNot`)
 * @returns the predicate, or undefined when the filter has no condition
 * @throws TypeError when the filter or a condition has the wrong shape or an unknown operator
 * @throws RangeError when it has too many conditions or values
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFilter } from "./filter.ts";
 * const passes = compileFilter({
 *   must: [{ key: "lang", match: { any: ["en", "de"] } }, { key: "year", range: { gte: 2020 } }],
 *   mustNot: [{ key: "meta.draft", match: true }],
 * })!;
 * assert.equal(passes({ lang: "en", year: 2021, meta: { draft: false } }), true);
 * assert.equal(passes({ lang: "en", year: 2021, meta: { draft: true } }), false);
 * assert.throws(() => compileFilter({ must: [{ key: "x", near: 1 } as never] }), TypeError);
 * ```
 */
export function compileFilter(filter: Filter | undefined): MetadataPredicate | undefined {
  if (filter === undefined) return undefined;
  if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
    throw new TypeError("Invalid filter: expected an object with must and/or mustNot");
  }
  for (const key of Object.keys(filter)) {
    if (key !== "must" && key !== "mustNot" && key !== "must_not") {
      throw new TypeError(`Invalid filter: unknown field "${key}", expected must or must_not`);
    }
  }
  const raw = filter as Record<string, unknown>;
  const must = conditionList(raw.must, "must");
  const mustNot = conditionList(raw.mustNot ?? raw.must_not, "must_not");
  if (must.length + mustNot.length > LIMITS.filterConditionsMax) {
    throw new RangeError(
      `Invalid filter: ${
        must.length + mustNot.length
      } conditions, expected at most ${LIMITS.filterConditionsMax}`,
    );
  }
  if (must.length + mustNot.length === 0) return undefined;
  const mustTests = must.map((condition, i) => compileCondition(condition, `must[${i}]`));
  const mustNotTests = mustNot.map((condition, i) => compileCondition(condition, `must_not[${i}]`));
  return (metadata) =>
    mustTests.every((test) => test(metadata)) && !mustNotTests.some((test) => test(metadata));
}

function conditionList(value: unknown, name: string): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`Invalid filter: ${name} must be an array`);
  return value;
}

function compileCondition(raw: unknown, where: string): Condition {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError(`Invalid filter ${where}: expected an object with key and match or range`);
  }
  const condition = raw as Record<string, unknown>;
  for (const field of Object.keys(condition)) {
    if (field !== "key" && field !== "match" && field !== "range") {
      throw new TypeError(
        `Invalid filter ${where}: unknown operator "${field}", expected match or range`,
      );
    }
  }
  const key = condition.key;
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(`Invalid filter ${where}: key must be a non-empty string`);
  }
  const hasMatch = "match" in condition;
  const hasRange = "range" in condition;
  if (hasMatch === hasRange) {
    throw new TypeError(`Invalid filter ${where}: expected exactly one of match or range`);
  }
  const test = hasMatch
    ? compileMatch(condition.match, `${where}.match`)
    : compileRange(condition.range, `${where}.range`);
  const path = key.split(".");
  return (metadata) => {
    if (metadata === undefined) return false;
    const value = lookup(metadata, key, path);
    if (value === undefined) return false;
    return Array.isArray(value) ? value.some(test) : test(value);
  };
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === "string" || typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value));
}

function compileMatch(match: unknown, where: string): Test {
  if (isScalar(match)) return (value) => value === match;
  if (typeof match !== "object" || match === null || Array.isArray(match)) {
    throw new TypeError(`Invalid filter ${where}: expected a string, number, boolean or {any}`);
  }
  const fields = Object.keys(match);
  if (fields.length !== 1 || fields[0] !== "any") {
    const unknown = fields.find((field) => field !== "any") ?? "(none)";
    throw new TypeError(`Invalid filter ${where}: unknown operator "${unknown}", expected any`);
  }
  const values = (match as { any: unknown }).any;
  if (!Array.isArray(values)) throw new TypeError(`Invalid filter ${where}.any: expected an array`);
  if (values.length > LIMITS.filterMatchAnyValuesMax) {
    throw new RangeError(
      `Invalid filter ${where}.any: ${values.length} values, expected at most ${LIMITS.filterMatchAnyValuesMax}`,
    );
  }
  for (const value of values) {
    if (!isScalar(value)) {
      throw new TypeError(
        `Invalid filter ${where}.any: values must be strings, numbers or booleans`,
      );
    }
  }
  const set = new Set<unknown>(values);
  return (value) => set.has(value);
}

function compileRange(range: unknown, where: string): Test {
  if (typeof range !== "object" || range === null || Array.isArray(range)) {
    throw new TypeError(`Invalid filter ${where}: expected an object with gt, gte, lt or lte`);
  }
  const bounds = range as Record<string, unknown>;
  const fields = Object.keys(bounds);
  if (fields.length === 0) {
    throw new TypeError(`Invalid filter ${where}: expected at least one of gt, gte, lt, lte`);
  }
  for (const field of fields) {
    if (!(RANGE_KEYS as readonly string[]).includes(field)) {
      throw new TypeError(
        `Invalid filter ${where}: unknown operator "${field}", expected gt, gte, lt or lte`,
      );
    }
    const bound = bounds[field];
    if (typeof bound !== "number" || !Number.isFinite(bound)) {
      throw new TypeError(`Invalid filter ${where}.${field}: expected a finite number`);
    }
  }
  const { gt, gte, lt, lte } = bounds as Partial<Record<(typeof RANGE_KEYS)[number], number>>;
  return (value) =>
    typeof value === "number" &&
    (gt === undefined || value > gt) && (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) && (lte === undefined || value <= lte);
}

function lookup(
  metadata: Readonly<Record<string, unknown>>,
  key: string,
  path: readonly string[],
): unknown {
  if (Object.hasOwn(metadata, key)) return metadata[key];
  if (path.length < 2) return undefined;
  let current: unknown = metadata;
  for (const part of path) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
