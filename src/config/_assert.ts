/**
 * Assertions for the tests of `src/config` (the project has no assertion
 * library: JSR is unreachable and `node:assert` has no types here).
 *
 * @module
 */

/**
 * Throws unless `condition` holds.
 *
 * @param condition The condition.
 * @param message The failure message.
 * @throws {Error} When `condition` is false.
 */
export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

/**
 * Throws unless `actual` deeply equals `expected`: same own keys (an
 * `undefined` property differs from a missing one), same primitives by
 * `Object.is`, arrays element-wise.
 *
 * @param actual The value under test.
 * @param expected The expected value.
 * @param context Prefix of the failure message.
 * @throws {Error} On the first difference, naming its path.
 */
export function assertEquals(actual: unknown, expected: unknown, context = "value"): void {
  const difference = differ(actual, expected, context);
  if (difference !== undefined) throw new Error(difference);
}

/**
 * Runs `fn`, expects it to throw an instance of `errorClass` whose message
 * equals `message` (a string) or matches it (a RegExp).
 *
 * @param fn The code under test.
 * @param errorClass The expected class.
 * @param message The expected message.
 * @returns The thrown error.
 * @throws {Error} When nothing, or something else, is thrown.
 */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  errorClass: new (...args: never[]) => E,
  message?: string | RegExp,
): E {
  try {
    fn();
  } catch (error) {
    assert(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
    const text = error.message;
    const matches = message === undefined ||
      (typeof message === "string" ? text === message : message.test(text));
    assert(matches, `expected message ${String(message)}\n      got ${JSON.stringify(text)}`);
    return error;
  }
  throw new Error(`expected ${errorClass.name} to be thrown`);
}

/**
 * Finds the first difference between two values.
 *
 * @param actual The value under test.
 * @param expected The expected value.
 * @param path Where in the value we are.
 * @returns A description of the difference, or undefined.
 */
function differ(actual: unknown, expected: unknown, path: string): string | undefined {
  if (Object.is(actual, expected)) return undefined;
  const show = (value: unknown) => typeof value === "bigint" ? `${value}n` : JSON.stringify(value);
  if (
    typeof actual !== "object" || typeof expected !== "object" || actual === null ||
    expected === null || Array.isArray(actual) !== Array.isArray(expected)
  ) {
    return `${path}: expected ${show(expected)}, got ${show(actual)}`;
  }
  const actualKeys = Object.keys(actual).sort();
  const expectedKeys = Object.keys(expected).sort();
  if (actualKeys.join() !== expectedKeys.join()) {
    return `${path}: expected keys [${expectedKeys}], got [${actualKeys}]`;
  }
  for (const key of expectedKeys) {
    const inner = differ(
      (actual as Record<string, unknown>)[key],
      (expected as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (inner !== undefined) return inner;
  }
  return undefined;
}
