/**
 * WAL segment files: `<wal dir>/<first LSN, 20 digits>.wal`. The name carries
 * the LSN of the segment's first record (or, for an empty last segment, the
 * LSN the next record will get), so the LSN sequence survives even when every
 * record before it has been checkpointed away.
 *
 * @module
 */

import { CorruptionError } from "../../errors.ts";
import { type FileIO, joinPath } from "../file_io.ts";

/** Suffix of segment files. */
export const SEGMENT_SUFFIX = ".wal";
const NAME_PATTERN = /^(\d{20})\.wal$/;

/** A segment file found in a WAL directory. */
export interface SegmentInfo {
  /** The file's path. */
  readonly path: string;
  /** LSN of its first record (from its name). */
  readonly firstLsn: number;
}

/**
 * The file name of the segment whose first record has LSN `firstLsn`.
 *
 * @param firstLsn A positive safe integer.
 * @returns E.g. `00000000000000000042.wal`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * assertEquals(segmentFileName(42), "00000000000000000042.wal");
 * assertEquals(parseSegmentFileName("00000000000000000042.wal"), 42);
 * assertEquals(parseSegmentFileName("notes.txt"), undefined);
 * ```
 */
export function segmentFileName(firstLsn: number): string {
  if (!Number.isSafeInteger(firstLsn) || firstLsn < 1) {
    throw new RangeError(`Cannot name WAL segment: LSN ${firstLsn} is not a positive safe integer`);
  }
  return `${String(firstLsn).padStart(20, "0")}${SEGMENT_SUFFIX}`;
}

/**
 * Parse a segment file name.
 *
 * @param name A directory entry's name.
 * @returns The first LSN, or `undefined` when the name does not end in `.wal`.
 * @throws {CorruptionError} For a `.wal` name that is not 20 digits or not a safe LSN.
 */
export function parseSegmentFileName(name: string): number | undefined {
  if (!name.endsWith(SEGMENT_SUFFIX)) return undefined;
  const digits = NAME_PATTERN.exec(name)?.[1];
  const lsn = digits === undefined ? Number.NaN : Number(digits);
  if (!Number.isSafeInteger(lsn) || lsn < 1) {
    throw new CorruptionError(
      `Cannot read WAL segment name "${name}": expected <20-digit LSN>.wal`,
    );
  }
  return lsn;
}

/**
 * List the segments of a WAL directory in LSN order; other files are ignored.
 *
 * @param io The file system.
 * @param dir The WAL directory.
 * @returns The segments, oldest first.
 * @throws {CorruptionError} For a malformed `.wal` name.
 * @throws {NotFoundError} When the directory does not exist.
 */
export async function listSegments(io: FileIO, dir: string): Promise<SegmentInfo[]> {
  const segments: SegmentInfo[] = [];
  for (const name of await io.readDir(dir)) {
    const firstLsn = parseSegmentFileName(name);
    if (firstLsn !== undefined) segments.push({ path: joinPath(dir, name), firstLsn });
  }
  return segments.sort((a, b) => a.firstLsn - b.firstLsn);
}
