/**
 * Helpers shared by the storage tests (private to the tests; not part of the WAL's surface).
 *
 * @module
 */

/** The seed of a randomised test: one implementation for the whole project. */
export { testSeed } from "../../../tests/support/seeded_random.ts";

/**
 * Throw unless `condition` holds (written before `@types/node` was installed; newer tests use
 * `node:assert/strict`).
 *
 * @param condition What must be true.
 * @param message Says what went wrong.
 */
export function assert(condition: unknown, message = "Assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const left = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const right = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return left.length === right.length && left.every((value, index) => value === right[index]);
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])
  );
}

function show(value: unknown): string {
  return Deno.inspect(value, { depth: 6, iterableLimit: 20 });
}

/**
 * Throw unless `actual` deep-equals `expected` (typed arrays compared by bytes).
 *
 * @param actual The value produced.
 * @param expected The value wanted.
 * @param message Context for the failure.
 */
export function assertEquals(actual: unknown, expected: unknown, message = ""): void {
  if (!deepEqual(actual, expected)) {
    throw new Error(
      `${message} Values differ:\nactual:   ${show(actual)}\nexpected: ${show(expected)}`,
    );
  }
}

/**
 * Await `run` and throw unless it rejects with an instance of `errorClass` whose message contains
 * `includes`.
 *
 * @param run The failing operation.
 * @param errorClass The expected error class.
 * @param includes A substring the message must contain.
 * @returns The error, for further checks.
 */
export async function assertRejects<E extends Error>(
  run: () => Promise<unknown>,
  errorClass: new (...args: never[]) => E,
  includes = "",
): Promise<E> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof errorClass)) {
      throw new Error(`Expected ${errorClass.name}, got ${show(error)}`);
    }
    if (!error.message.includes(includes)) {
      throw new Error(`Expected message containing "${includes}", got "${error.message}"`);
    }
    return error;
  }
  throw new Error(`Expected ${errorClass.name}, but nothing was thrown`);
}

/**
 * Throw unless `run` throws an instance of `errorClass` synchronously.
 *
 * @param run The failing operation.
 * @param errorClass The expected error class.
 * @param includes A substring the message must contain.
 * @returns The error.
 */
export function assertThrows<E extends Error>(
  run: () => unknown,
  errorClass: new (...args: never[]) => E,
  includes = "",
): E {
  try {
    run();
  } catch (error) {
    if (!(error instanceof errorClass) || !error.message.includes(includes)) {
      throw new Error(`Expected ${errorClass.name} containing "${includes}", got ${show(error)}`);
    }
    return error;
  }
  throw new Error(`Expected ${errorClass.name}, but nothing was thrown`);
}
