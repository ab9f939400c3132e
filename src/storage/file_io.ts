/**
 * The file-system seam of AkiDB's storage. The WAL and the snapshots reach the
 * disk only through {@link FileIO}, so the same code runs on the real disk
 * ({@link DiskFileIO} in `disk_file_io.ts`) and on a seeded, fault-injecting
 * in-memory store that can lose or tear un-synced writes at a simulated crash
 * (`MemoryFileIO` in `memory_file_io.ts`).
 *
 * Contract shared by every implementation (checked by one shared test suite):
 * - Paths are `/`-separated strings; {@link joinPath} builds them.
 * - A missing path raises `NotFoundError`, an existing one where a new file was
 *   required raises `ConflictError`, a full device raises `CapacityError`
 *   (all from `src/errors.ts`).
 * - {@link FileHandle.write} appends at the end of the file; nothing a handle
 *   writes is durable before {@link FileHandle.syncData} resolves.
 * - A created, renamed or removed directory entry is durable only after
 *   {@link FileIO.syncDir} on its parent directory resolves.
 *
 * @module
 */

/** What {@link FileIO.stat} reports about a path. */
export interface FileInfo {
  /** True for a directory, false for a regular file. */
  readonly isDirectory: boolean;
  /** Size of a regular file in bytes; 0 for a directory. */
  readonly sizeBytes: number;
}

/** How {@link FileIO.open} opens a file. */
export interface OpenOptions {
  /**
   * `"existing"` (default): the file must exist. `"create"`: create it when
   * missing. `"createNew"`: create it and fail with `ConflictError` if it exists.
   */
  readonly mode?: "existing" | "create" | "createNew";
}

/** An open file: appends, positioned reads, truncation and durable syncs. */
export interface FileHandle {
  /** The path the handle was opened with. */
  readonly path: string;
  /**
   * Append every byte of `data` at the end of the file.
   *
   * @param data The bytes to append.
   * @throws {CapacityError} When the device is full (part of `data` may be written).
   */
  write(data: Uint8Array): Promise<void>;
  /**
   * Read up to `lengthBytes` bytes starting at `offsetBytes`; fewer at the end of the file.
   *
   * @param offsetBytes Where to start reading.
   * @param lengthBytes How many bytes to read at most.
   * @returns The bytes read.
   */
  readAt(offsetBytes: number, lengthBytes: number): Promise<Uint8Array>;
  /** Make the file's data and size durable (fdatasync). */
  syncData(): Promise<void>;
  /**
   * Cut the file to `sizeBytes` bytes; durable after the next {@link syncData}.
   *
   * @param sizeBytes The new size, at most the current size.
   */
  truncate(sizeBytes: number): Promise<void>;
  /** @returns The current size of the file in bytes, including un-synced writes. */
  sizeBytes(): Promise<number>;
  /** Release the handle; un-synced data stays as durable as the OS makes it. */
  close(): Promise<void>;
}

/** The file-system operations the storage layer needs. */
export interface FileIO {
  /**
   * Open a regular file for appending and reading.
   *
   * @param path The file's path.
   * @param options Whether to create it.
   * @returns The open handle.
   * @throws {NotFoundError} When the file (or its directory) does not exist and may not be created.
   * @throws {ConflictError} When `mode` is `"createNew"` and the file exists.
   */
  open(path: string, options?: OpenOptions): Promise<FileHandle>;
  /**
   * Read a whole regular file.
   *
   * @param path The file's path.
   * @param into A buffer to read into when it is large enough (a scan over many files reuses one
   *   and skips the page faults of a fresh buffer per file); the result is then a view of it, and
   *   earlier views of it are overwritten.
   * @returns Its current content, including un-synced writes.
   * @throws {NotFoundError} When the file does not exist.
   */
  readFile(path: string, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Remove a regular file or an empty directory; durable after {@link syncDir} of its parent.
   *
   * @param path The path to remove.
   * @throws {NotFoundError} When the path does not exist.
   */
  remove(path: string): Promise<void>;
  /**
   * Atomically rename a file, replacing `toPath` if it exists; durable after
   * {@link syncDir} of both parents.
   *
   * @param fromPath The existing path.
   * @param toPath The new path.
   * @throws {NotFoundError} When `fromPath` does not exist.
   */
  rename(fromPath: string, toPath: string): Promise<void>;
  /**
   * List the names (not paths) of a directory's entries, in no particular order.
   *
   * @param path The directory.
   * @returns The entry names.
   * @throws {NotFoundError} When the directory does not exist.
   */
  readDir(path: string): Promise<string[]>;
  /**
   * Create a directory and its missing parents; no error if it exists.
   * New entries are durable after {@link syncDir} of each parent.
   *
   * @param path The directory to create.
   */
  mkdir(path: string): Promise<void>;
  /**
   * Make a directory's entries (creations, renames, removals) durable.
   *
   * @param path The directory.
   * @throws {NotFoundError} When the directory does not exist.
   */
  syncDir(path: string): Promise<void>;
  /**
   * Describe a path.
   *
   * @param path The path.
   * @returns Its info, or `undefined` when it does not exist.
   */
  stat(path: string): Promise<FileInfo | undefined>;
}

/**
 * Join path segments with `/`, dropping empty segments and duplicate slashes.
 *
 * @param first The first segment; a leading `/` is kept.
 * @param rest More segments.
 * @returns The joined path.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./wal/_test_support.ts";
 * assertEquals(joinPath("/data/", "c1", "wal"), "/data/c1/wal");
 * assertEquals(joinPath("data", "x.wal"), "data/x.wal");
 * ```
 */
export function joinPath(first: string, ...rest: string[]): string {
  const parts = [first, ...rest].flatMap((part) => part.split("/")).filter((part) => part !== "");
  const joined = parts.join("/");
  return first.startsWith("/") ? `/${joined}` : joined;
}

/**
 * The parent directory of a path (`"."` for a bare name).
 *
 * @param path A file or directory path.
 * @returns Its parent directory.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./wal/_test_support.ts";
 * assertEquals(parentPath("/data/c1/wal"), "/data/c1");
 * assertEquals(parentPath("/wal"), "/");
 * assertEquals(parentPath("wal"), ".");
 * ```
 */
export function parentPath(path: string): string {
  const normalized = joinPath(path);
  const slash = normalized.lastIndexOf("/");
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  return normalized.slice(0, slash);
}
