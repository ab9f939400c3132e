/**
 * Snapshot round trips: write → read → `HnswIndex.loadGraph` gives the same
 * points (bit-exact vectors, ids of both kinds, metadata, tail rows) and the
 * same search results; retention, listing, cleanup of interrupted writes.
 */

import assert from "node:assert/strict";
import { HnswIndex } from "../src/index/mod.ts";
import { MemoryFileIO } from "../src/storage/memory_file_io.ts";
import {
  listSnapshotIds,
  pruneSnapshots,
  readSnapshot,
  removeTempSnapshots,
  verifySnapshot,
  writeSnapshot,
} from "../src/storage/snapshot/mod.ts";
import { DiskFileIO } from "../src/storage/disk_file_io.ts";
import { testSeed } from "./support/seeded_random.ts";
import { bitsOf, buildFixture, snapshotKernel } from "./snapshot_support.ts";
import { randomVector, seededRandom } from "./support/seeded_random.ts";

for (const metric of ["cosine", "l2", "dot"] as const) {
  Deno.test(`snapshot round trip restores graph, tail, ids and metadata (${metric})`, async () => {
    const seed = testSeed(`snapshot round trip ${metric}`);
    const { index, input, tail } = await buildFixture(seed, {
      count: 600,
      tailCount: 25,
      dimension: 24,
      metric,
    });
    const io = new MemoryFileIO({ seed });
    const manifest = await writeSnapshot(io, "/data/c", input);
    assert.equal(manifest.vector_count, input.rows.ids.length);
    assert.equal(manifest.graph_rows, index.size);
    assert.equal(manifest.lsn, 1234);
    assert.deepEqual(await listSnapshotIds(io, "/data/c"), [manifest.snapshot_id]);

    const data = await readSnapshot(io, "/data/c", manifest.snapshot_id, {
      collectionId: input.collection.id,
      dimension: 24,
      metric,
    });
    assert.deepEqual(data.manifest, manifest);
    assert.deepEqual(data.rows.ids, input.rows.ids);
    assert.ok(data.rows.ids.some((id) => typeof id === "number"));
    assert.ok(data.rows.ids.some((id) => typeof id === "string"));
    assert.deepEqual(data.rows.metadata, input.rows.metadata);
    assert.deepEqual(bitsOf(data.rows.vectors), bitsOf(input.rows.vectors));

    const dim = 24;
    const restored = HnswIndex.loadGraph(await snapshotKernel(), data.graph, {
      count: data.manifest.graph_rows,
      id: (row) => data.rows.ids[row]!,
      vector: (row) => data.rows.vectors.subarray(row * dim, (row + 1) * dim),
    });
    assert.equal(restored.size, index.size);
    assert.equal(restored.deletedCount, index.deletedCount);
    for (const [id, vector] of index.entries()) {
      assert.deepEqual(bitsOf(restored.vector(id)!), bitsOf(vector));
    }
    const random = seededRandom(seed ^ 0x5a5a);
    for (let q = 0; q < 20; q++) {
      const query = randomVector(random, dim);
      assert.deepEqual(restored.search(query, 10), index.search(query, 10));
    }
    const tailRows = data.rows.ids.slice(data.manifest.graph_rows);
    assert.deepEqual(tailRows, [...tail.keys()]);
  });
}

Deno.test("snapshot of an empty collection round-trips", async () => {
  const { input } = await buildFixture(1, { count: 0, tailCount: 0, dimension: 3, metric: "l2" });
  const io = new MemoryFileIO({ seed: 1 });
  const manifest = await writeSnapshot(io, "/c", input);
  const data = await readSnapshot(io, "/c", manifest.snapshot_id);
  assert.equal(data.rows.ids.length, 0);
  const restored = HnswIndex.loadGraph(await snapshotKernel(), data.graph, {
    count: 0,
    id: () => 0,
    vector: () => new Float32Array(3),
  });
  assert.equal(restored.size, 0);
});

Deno.test("snapshots list newest first; retention keeps N; .tmp leftovers are removed", async () => {
  const { input } = await buildFixture(2, { count: 20, tailCount: 2, dimension: 4, metric: "l2" });
  const io = new MemoryFileIO({ seed: 2 });
  const ids: string[] = [];
  for (const lsn of [5, 50, 17, 400]) {
    ids.push((await writeSnapshot(io, "/c", { ...input, lsn })).snapshot_id);
  }
  const listed = await listSnapshotIds(io, "/c");
  assert.deepEqual(listed.map((id) => Number(id.slice(0, 20))), [400, 50, 17, 5]);
  assert.deepEqual(await pruneSnapshots(io, "/c", 2), [ids[0], ids[2]]);
  assert.deepEqual(await listSnapshotIds(io, "/c"), [ids[3], ids[1]]);
  await io.mkdir("/c/snapshots/.tmp-00000000000000000999-deadbeef");
  await (await io.open("/c/snapshots/.tmp-00000000000000000999-deadbeef/graph.bin", {
    mode: "create",
  })).close();
  assert.deepEqual(await removeTempSnapshots(io, "/c"), [
    ".tmp-00000000000000000999-deadbeef",
  ]);
  assert.deepEqual((await io.readDir("/c/snapshots")).sort(), [ids[1], ids[3]].sort());
  await verifySnapshot(io, "/c", ids[3]!);
});

Deno.test("snapshot round trip on disk through DiskFileIO", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akidb-snap-" });
  try {
    const { input } = await buildFixture(3, {
      count: 200,
      tailCount: 5,
      dimension: 16,
      metric: "cosine",
    });
    const io = new DiskFileIO();
    const manifest = await writeSnapshot(io, dir, input);
    const names = (await Array.fromAsync(Deno.readDir(`${dir}/snapshots/${manifest.snapshot_id}`)))
      .map((entry) => entry.name).sort();
    assert.deepEqual(names, ["graph.bin", "manifest.json", "vectors.parquet"]);
    const data = await readSnapshot(io, dir, manifest.snapshot_id);
    assert.deepEqual(data.rows.ids, input.rows.ids);
    assert.deepEqual(bitsOf(data.rows.vectors), bitsOf(input.rows.vectors));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
