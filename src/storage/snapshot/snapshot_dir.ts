/**
 * The `snapshots/` directory of a collection: listing, cleanup of interrupted
 * writes and retention.
 *
 * @module
 */

import { type FileIO, joinPath, parentPath } from "../file_io.ts";
import { isSnapshotId, TEMP_PREFIX } from "./manifest.ts";

/**
 * The snapshots directory of a collection.
 *
 * @param collectionDir the collection's directory
 * @returns `<collectionDir>/snapshots`
 */
export function snapshotsDir(collectionDir: string): string {
  return joinPath(collectionDir, "snapshots");
}

/**
 * Ids of the complete-looking snapshot directories, newest (highest LSN) first.
 * Whether each is valid is for {@linkcode verifySnapshot} to say.
 *
 * @param io the file system
 * @param collectionDir the collection's directory
 * @returns snapshot ids, newest first; empty when there is no snapshots directory
 */
export async function listSnapshotIds(io: FileIO, collectionDir: string): Promise<string[]> {
  const dir = snapshotsDir(collectionDir);
  if ((await io.stat(dir)) === undefined) return [];
  return (await io.readDir(dir)).filter(isSnapshotId).sort().reverse();
}

/**
 * Removes `.tmp-*` directories left by writes a crash interrupted.
 *
 * @param io the file system
 * @param collectionDir the collection's directory
 * @returns the names removed
 */
export async function removeTempSnapshots(io: FileIO, collectionDir: string): Promise<string[]> {
  const dir = snapshotsDir(collectionDir);
  if ((await io.stat(dir)) === undefined) return [];
  const temps = (await io.readDir(dir)).filter((name) => name.startsWith(TEMP_PREFIX));
  for (const name of temps) await removeSnapshotDir(io, joinPath(dir, name));
  return temps;
}

/**
 * Keeps the `keep` newest snapshots and removes the others, oldest first.
 *
 * @param io the file system
 * @param collectionDir the collection's directory
 * @param keep how many to keep, ≥ 1
 * @returns the ids removed
 */
export async function pruneSnapshots(
  io: FileIO,
  collectionDir: string,
  keep: number,
): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new RangeError(`Cannot prune snapshots: keep is ${keep}, expected an integer ≥ 1`);
  }
  const doomed = (await listSnapshotIds(io, collectionDir)).slice(keep).reverse();
  for (const id of doomed) await removeSnapshotDir(io, joinPath(snapshotsDir(collectionDir), id));
  return doomed;
}

/**
 * Removes one snapshot directory (flat: files only) durably: renamed to `.tmp-<id>`, emptied,
 * removed.
 * A missing directory is not an error.
 *
 * @param io the file system
 * @param path the snapshot's directory
 */
export async function removeSnapshotDir(io: FileIO, path: string): Promise<void> {
  if ((await io.stat(path)) === undefined) return;
  const parent = parentPath(path);
  const name = path.slice(parent.length + 1);
  let doomed = path;
  if (!name.startsWith(TEMP_PREFIX)) {
    // Renamed out of sight first: a crash mid-removal leaves a `.tmp-*` leftover,
    // never a snapshot directory with some of its files gone.
    doomed = joinPath(parent, TEMP_PREFIX + name);
    await io.rename(path, doomed);
    await io.syncDir(parent);
  }
  for (const file of await io.readDir(doomed)) await io.remove(joinPath(doomed, file));
  await io.remove(doomed);
  await io.syncDir(parent);
}
