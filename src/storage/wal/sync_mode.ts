/**
 * When an append is acknowledged and when the WAL calls `fsync`
 * (exact promises in `docs/formats/wal.md`).
 *
 * @module
 */

/**
 * - `always`: an append resolves after its group is written and fsync'd (default).
 * - `interval`: an append resolves after its group is written; fsync runs at most once per
 *   `intervalMs`, and at least `intervalMs` after a write that is not yet synced.
 * - `none`: an append resolves after its group is written; fsync only on rotation, `sync()`
 *   and `close()`.
 */
export type SyncMode =
  | { readonly kind: "always" }
  | { readonly kind: "interval"; readonly intervalMs: number }
  | { readonly kind: "none" };

/** Longest accepted fsync interval: one minute. */
export const SYNC_INTERVAL_MS_MAX = 60_000;

/**
 * Parse a sync mode from configuration text: `always`, `interval:<ms>` or `none`.
 *
 * @param text The configured value.
 * @returns The typed mode.
 * @throws {SyntaxError} When the text is none of the three forms.
 * @throws {RangeError} When the interval is not an integer in 1..60000.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * assertEquals(parseSyncMode("interval:5"), { kind: "interval", intervalMs: 5 });
 * assertEquals(parseSyncMode("always"), { kind: "always" });
 * ```
 */
export function parseSyncMode(text: string): SyncMode {
  if (text === "always" || text === "none") return { kind: text };
  const match = /^interval:(\d+)$/.exec(text);
  if (match === null) {
    throw new SyntaxError(
      `Cannot parse WAL sync mode "${text}": expected always, interval:<ms> or none`,
    );
  }
  const intervalMs = Number(match[1]);
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1 || intervalMs > SYNC_INTERVAL_MS_MAX) {
    throw new RangeError(
      `Cannot use WAL sync interval ${match[1]} ms: expected 1..${SYNC_INTERVAL_MS_MAX}`,
    );
  }
  return { kind: "interval", intervalMs };
}
