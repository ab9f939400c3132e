/**
 * Snapshots of a collection: `vectors.parquet` (the live points), `graph.bin`
 * (the HNSW links, so a restore rebuilds nothing) and `manifest.json` (what
 * and when, sizes and SHA-256 of both files), written atomically under
 * `<collection dir>/snapshots/<snapshot_id>/`. Format and protocol:
 * `docs/formats/snapshot.md`.
 *
 * @module
 */

export {
  GRAPH_FILE,
  isSnapshotId,
  MANIFEST_FILE,
  newSnapshotId,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotManifest,
  VECTORS_FILE,
} from "./manifest.ts";
export { type RowId, type SnapshotRows } from "./vectors_parquet.ts";
export {
  type SnapshotCollection,
  type SnapshotInput,
  writeSnapshot,
  writeSnapshotFiles,
} from "./snapshot_writer.ts";
export {
  readManifest,
  readSnapshot,
  type SnapshotData,
  type SnapshotExpectation,
  snapshotPath,
  verifySnapshot,
} from "./snapshot_reader.ts";
export {
  listSnapshotIds,
  pruneSnapshots,
  removeSnapshotDir,
  removeTempSnapshots,
  snapshotsDir,
} from "./snapshot_dir.ts";
