/**
 * Background threads yield to the request thread: Linux nice values are per
 * thread, so a worker can lower its own priority. It then uses whatever CPU
 * is idle, but when it and the request thread want the same core, requests
 * come first.
 *
 * @module
 */

import os from "node:os";

/**
 * Nice values of the workers. Graph building is pure background work: the lowest priority, so it
 * runs on CPU nothing else wants (its rate under search load did not drop measurably at 19).
 * Parsing a large upsert is on a write's path, so it sits between.
 */
export const NICE = Object.freeze({ graphBuilding: 19, parsing: 10 });

/**
 * Lowers the calling thread's CPU priority (call it from a worker).
 *
 * @param nice the nice value, 0 (normal) .. 19 (lowest)
 * @returns false when it could not (no `--allow-sys`, or the OS refused): the thread runs at
 *   normal priority
 */
export function lowerThisThreadPriority(nice: number): boolean {
  try {
    os.setPriority(0, nice); // pid 0: the calling thread only
    return true;
  } catch {
    return false;
  }
}
