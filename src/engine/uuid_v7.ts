/**
 * UUID version 7 (RFC 9562): a 48-bit Unix millisecond timestamp, then random
 * bits, so ids sort by creation time.
 *
 * @module
 */

/**
 * Makes a UUID v7.
 *
 * @param nowMs the timestamp to embed, in Unix milliseconds (default: now)
 * @returns the UUID in its canonical lowercase 8-4-4-4-12 form
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uuidV7 } from "./uuid_v7.ts";
 * const id = uuidV7(0x0189_0000_0000);
 * assert.match(id, /^01890000-0000-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
 * ```
 */
export function uuidV7(nowMs: number = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let time = Math.floor(nowMs);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}
