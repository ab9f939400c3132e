/**
 * The files of one WAL: the ordered segments, the open handle of the active
 * (last) one, appends to it, rotation, and checkpoint deletion. It knows the
 * durability rules of files and directories; the group-commit policy lives in
 * `wal_writer.ts`.
 *
 * @module
 */

import { type FileHandle, type FileIO, joinPath } from "../file_io.ts";
import { segmentFileName, type SegmentInfo } from "./segment_name.ts";

/** A segment with its current size. */
export interface Segment extends SegmentInfo {
  /** Bytes written to it (durable or not). */
  sizeBytes: number;
}

/**
 * The segments of one WAL directory, oldest first; the last is open for appending.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * import { MemoryFileIO } from "../memory_file_io.ts";
 * const io = new MemoryFileIO({ seed: 1 });
 * await io.mkdir("/wal");
 * const set = await SegmentSet.create(io, "/wal", 1);
 * await set.append(new Uint8Array(10));
 * await set.rotate(5);
 * assertEquals(set.list().map((s) => [s.firstLsn, s.sizeBytes]), [[1, 10], [5, 0]]);
 * assertEquals(await set.deleteBefore(5), 1);
 * await set.close();
 * ```
 */
export class SegmentSet {
  /** The WAL directory. */
  readonly dir: string;
  readonly #io: FileIO;
  readonly #segments: Segment[];
  #active: FileHandle;

  private constructor(io: FileIO, dir: string, segments: Segment[], active: FileHandle) {
    this.#io = io;
    this.dir = dir;
    this.#segments = segments;
    this.#active = active;
  }

  /**
   * Create the first segment of an empty WAL directory, durably.
   *
   * @param io The file system.
   * @param dir The WAL directory (it must exist).
   * @param firstLsn The LSN of its first record.
   * @returns The set of one empty segment.
   */
  static async create(io: FileIO, dir: string, firstLsn: number): Promise<SegmentSet> {
    const path = joinPath(dir, segmentFileName(firstLsn));
    const active = await io.open(path, { mode: "createNew" });
    await io.syncDir(dir);
    return new SegmentSet(io, dir, [{ path, firstLsn, sizeBytes: 0 }], active);
  }

  /**
   * Take over recovered segments; the last one is opened for appending.
   *
   * @param io The file system.
   * @param dir The WAL directory.
   * @param segments The segments, oldest first, at least one, with their sizes after recovery.
   * @returns The set.
   */
  static async adopt(io: FileIO, dir: string, segments: readonly Segment[]): Promise<SegmentSet> {
    const last = segments[segments.length - 1];
    if (last === undefined) throw new RangeError("Cannot adopt WAL segments: none given");
    return new SegmentSet(io, dir, segments.map((s) => ({ ...s })), await io.open(last.path));
  }

  /** @returns The active (last) segment. */
  get active(): Readonly<Segment> {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** @returns Total bytes of all segments. */
  get sizeBytes(): number {
    return this.#segments.reduce((total, segment) => total + segment.sizeBytes, 0);
  }

  /** @returns A copy of the segments, oldest first. */
  list(): Segment[] {
    return this.#segments.map((segment) => ({ ...segment }));
  }

  /**
   * Append bytes to the active segment (not yet durable).
   *
   * @param bytes Whole framed records.
   */
  async append(bytes: Uint8Array): Promise<void> {
    await this.#active.write(bytes);
    this.#segments[this.#segments.length - 1]!.sizeBytes += bytes.length;
  }

  /** fsync the active segment's data. */
  syncActive(): Promise<void> {
    return this.#active.syncData();
  }

  /**
   * Start segment `<firstLsn>.wal`. The caller must have fsync'd the active segment first, so that
   * only the last segment can ever hold a torn write; the new entry is fsync'd in the directory
   * before anything is written to it.
   *
   * @param firstLsn LSN of the new segment's first record.
   */
  async rotate(firstLsn: number): Promise<void> {
    await this.#active.close();
    const path = joinPath(this.dir, segmentFileName(firstLsn));
    this.#active = await this.#io.open(path, { mode: "createNew" });
    await this.#io.syncDir(this.dir);
    this.#segments.push({ path, firstLsn, sizeBytes: 0 });
  }

  /**
   * Delete, oldest first, every segment whose records all have an LSN below `lsn`; never the
   * active one. Each removal is fsync'd in the directory before the next, so a crash leaves a
   * contiguous suffix.
   *
   * @param lsn The first LSN that must stay.
   * @returns How many segments were deleted.
   */
  async deleteBefore(lsn: number): Promise<number> {
    let deleted = 0;
    while (this.#segments.length > 1 && this.#segments[1]!.firstLsn <= lsn) {
      await this.#io.remove(this.#segments[0]!.path);
      await this.#io.syncDir(this.dir);
      this.#segments.shift();
      deleted += 1;
    }
    return deleted;
  }

  /** Close the active segment's handle. */
  close(): Promise<void> {
    return this.#active.close();
  }
}
