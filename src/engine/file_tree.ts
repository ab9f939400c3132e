/**
 * Removing a directory tree through the `FileIO` seam, durably.
 *
 * @module
 */

import { type FileIO, joinPath, parentPath } from "../storage/file_io.ts";

/**
 * Removes a directory and everything under it, children first, then makes the
 * removal durable with an fsync of the parent directory. A missing path is not
 * an error (the removal may have finished before a crash).
 *
 * @param io the file system
 * @param path the directory (or file) to remove
 * @returns true when something was removed
 */
export async function removeTree(io: FileIO, path: string): Promise<boolean> {
  const info = await io.stat(path);
  if (info === undefined) return false;
  if (info.isDirectory) {
    for (const name of await io.readDir(path)) await removeTree(io, joinPath(path, name));
  }
  await io.remove(path);
  await io.syncDir(parentPath(path));
  return true;
}
