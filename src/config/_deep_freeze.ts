/**
 * Deep freezing, so loaded configuration cannot change after startup.
 *
 * @module
 */

/**
 * Freezes an object graph.
 *
 * @param value The root.
 * @returns The same root, frozen all the way down.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
