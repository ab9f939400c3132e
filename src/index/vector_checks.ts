/**
 * Argument checks done in TypeScript before anything reaches WASM, so the
 * kernel only ever sees valid input.
 *
 * @module
 */

import { LIMITS } from "../limits.ts";
import { isMetric, type Metric } from "../kernel/mod.ts";

/**
 * Checks that a vector has the expected dimension and only finite values.
 *
 * @param vector the candidate
 * @param dimension the expected dimension
 * @param subject what the vector belongs to, e.g. `Cannot upsert point "a1"`
 * @throws TypeError when it is not a Float32Array
 * @throws RangeError on a wrong dimension or a NaN/Infinity value
 */
export function checkVector(vector: unknown, dimension: number, subject: string): Float32Array {
  if (!(vector instanceof Float32Array)) {
    throw new TypeError(`${subject}: vector must be a Float32Array`);
  }
  if (vector.length !== dimension) {
    throw new RangeError(`${subject}: dimension is ${vector.length}, expected ${dimension}`);
  }
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i]!)) {
      throw new RangeError(`${subject}: vector[${i}] is ${vector[i]}, expected a finite number`);
    }
  }
  return vector;
}

/**
 * Checks an integer parameter against an inclusive range.
 *
 * @param value the candidate
 * @param name the parameter's name for the message
 * @param min smallest allowed
 * @param max largest allowed
 * @returns the value
 * @throws RangeError when it is not an integer in [min, max]
 */
export function checkInteger(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Invalid ${name}: ${value}, expected an integer ${min}..${max}`);
  }
  return value;
}

/**
 * Checks a metric name.
 *
 * @throws TypeError for an unknown metric
 */
export function checkMetric(metric: unknown): Metric {
  if (!isMetric(metric)) {
    throw new TypeError(`Invalid metric: ${JSON.stringify(metric)}, expected cosine, l2 or dot`);
  }
  return metric;
}

/** Checks a dimension against the limits. */
export function checkDimension(dimension: number): number {
  return checkInteger(dimension, "dimension", LIMITS.dimensionMin, LIMITS.dimensionMax);
}
