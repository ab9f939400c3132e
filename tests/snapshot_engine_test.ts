/**
 * Snapshots in the engine: restart = newest valid snapshot + WAL after it
 * (bit-exact vectors, metadata, checkpointed WAL), fallback to an older
 * snapshot, loud failure when nothing covers the history, restore into a
 * running collection (and refusal of a corrupt one), writes during a
 * snapshot, automatic snapshots.
 */

import assert from "node:assert/strict";
import type { AkiEngine, PointInput } from "../src/engine/mod.ts";
import { logLines, openEngine, withDataDir } from "../src/engine/_engine_test_support.ts";
import { CorruptionError, NotFoundError } from "../src/errors.ts";
import { DiskFileIO } from "../src/storage/disk_file_io.ts";
import { writeSnapshot } from "../src/storage/snapshot/mod.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";
import { bitsOf } from "./snapshot_support.ts";

const DIM = 128;

/** Opens an engine with a config file: no automatic snapshots unless `extra` says so. */
async function open(dataDir: string, extra = ""): Promise<AkiEngine> {
  const path = `${dataDir}/akidb.toml`;
  await Deno.writeTextFile(
    path,
    `[wal]\nsegment_size_bytes = 1048576\n[snapshot]\nwal_bytes_threshold = 0\nretention = 2\n${extra}`,
  );
  return await openEngine(dataDir, undefined, ["--config", path]);
}

function batch(random: () => number, from: number, count: number): PointInput[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return {
      id: n % 3 === 0 ? `p${n}` : n,
      vector: randomVector(random, DIM),
      ...(n % 2 === 0 ? { metadata: { n, tag: `t${n % 4}` } } : {}),
    };
  });
}

async function createC(engine: AkiEngine, metric: "cosine" | "l2" | "dot"): Promise<string> {
  return (await engine.createCollection({ name: "c", dimension: DIM, metric })).collectionId;
}

function walSegments(dataDir: string, id: string): string[] {
  return [...Deno.readDirSync(`${dataDir}/collections/${id}/wal`)].map((e) => e.name).sort();
}

function snapshotDirs(dataDir: string, id: string): string[] {
  return [...Deno.readDirSync(`${dataDir}/collections/${id}/snapshots`)].map((e) => e.name).sort();
}

type Points = Map<string | number, { vector: Uint8Array; metadata: unknown }>;

async function everyPoint(engine: AkiEngine, ids: Iterable<string | number>): Promise<Points> {
  const points: Points = new Map();
  for (const id of ids) {
    const point = await engine.getPoint("c", id);
    if (point !== undefined) {
      points.set(id, { vector: bitsOf(point.vector).slice(), metadata: point.metadata });
    }
  }
  return points;
}

Deno.test("restart: snapshot + WAL after it; vectors bit-exact; old WAL segments gone", async () => {
  const seed = testSeed("snapshot restart");
  const random = seededRandom(seed);
  await withDataDir(async (dataDir) => {
    let engine = await open(dataDir);
    const collectionId = await createC(engine, "cosine");
    for (let b = 0; b < 50; b++) await engine.upsert("c", batch(random, b * 100, 100));
    await engine.deletePoint("c", 1);
    const segmentsBefore = walSegments(dataDir, collectionId);
    assert.ok(segmentsBefore.length >= 3, `${segmentsBefore.length} segments`);
    const manifest = await engine.createSnapshot("c");
    assert.equal(manifest.lsn, 51);
    assert.equal(manifest.vector_count, 4999);
    const segmentsAfter = walSegments(dataDir, collectionId);
    assert.ok(segmentsAfter.length < segmentsBefore.length, String(segmentsAfter));
    assert.ok(Number(segmentsAfter[0]!.slice(0, 20)) > 1);
    // More writes after the snapshot, replacing and deleting some snapshotted points.
    for (let b = 45; b < 60; b++) await engine.upsert("c", batch(random, b * 100, 100));
    await engine.deletePoint("c", "p3");
    const allIds = Array.from({ length: 6000 }, (_, n) => (n % 3 === 0 ? `p${n}` : n));
    const before = await everyPoint(engine, allIds);
    const query = randomVector(random, DIM);
    const hitsBefore = await engine.search("c", { vector: query, k: 10, efSearch: 400 });
    await engine.close();

    engine = await open(dataDir);
    assert.deepEqual(engine.readiness().failedCollections, []);
    assert.equal(engine.getCollection("c").vectorCount, before.size);
    assert.deepEqual(await everyPoint(engine, allIds), before);
    const hitsAfter = await engine.search("c", { vector: query, k: 10, efSearch: 400 });
    assert.deepEqual(hitsAfter.map((h) => h.id), hitsBefore.map((h) => h.id));
    assert.deepEqual((await engine.listSnapshots("c")).map((m) => m.snapshot_id), [
      manifest.snapshot_id,
    ]);
    // LSNs continue: 50 upserts + 1 delete (snapshot at 51) + 15 upserts + 1 delete = 67.
    assert.equal((await engine.upsert("c", batch(random, 9000, 1))).lsn, 68);
    await engine.close();
  });
});

Deno.test("recovery falls back to an older snapshot when the newest fails verification", async () => {
  const random = seededRandom(testSeed("snapshot fallback"));
  await withDataDir(async (dataDir) => {
    let engine = await open(dataDir);
    const collectionId = await createC(engine, "l2");
    await engine.upsert("c", batch(random, 0, 50));
    const older = await engine.createSnapshot("c");
    await engine.upsert("c", batch(random, 50, 50));
    // A newer snapshot written without a checkpoint, so the WAL still covers the older one.
    const newer = await writeSnapshot(
      new DiskFileIO(),
      `${dataDir}/collections/${collectionId}`,
      engine.collection("c").captureSnapshot(),
    );
    const before = await everyPoint(
      engine,
      Array.from({ length: 100 }, (_, n) => n % 3 ? n : `p${n}`),
    );
    await engine.close();
    const graph = `${dataDir}/collections/${collectionId}/snapshots/${newer.snapshot_id}/graph.bin`;
    const bytes = await Deno.readFile(graph);
    bytes[bytes.length - 5]! ^= 0xff;
    await Deno.writeFile(graph, bytes);

    logLines.length = 0;
    engine = await open(dataDir);
    assert.deepEqual(engine.readiness().failedCollections, []);
    assert.equal(engine.getCollection("c").vectorCount, 100);
    assert.deepEqual(
      await everyPoint(engine, Array.from({ length: 100 }, (_, n) => n % 3 ? n : `p${n}`)),
      before,
    );
    assert.equal(engine.collection("c").lastSnapshot?.snapshot_id, older.snapshot_id);
    const logged = logLines.join("\n");
    assert.match(logged, /snapshot failed verification/);
    assert.match(logged, /graph\.bin/);
    await engine.close();
  });
});

Deno.test("no valid snapshot and a WAL that no longer starts at LSN 1: the collection fails loudly", async () => {
  const random = seededRandom(testSeed("snapshot gone"));
  await withDataDir(async (dataDir) => {
    let engine = await open(dataDir);
    const collectionId = await createC(engine, "l2");
    await engine.createCollection({ name: "other", dimension: 2, metric: "l2" });
    for (let b = 0; b < 30; b++) await engine.upsert("c", batch(random, b * 100, 100));
    const manifest = await engine.createSnapshot("c");
    await engine.close();
    const dir = `${dataDir}/collections/${collectionId}/snapshots/${manifest.snapshot_id}`;
    await Deno.writeTextFile(`${dir}/manifest.json`, "{}");

    engine = await open(dataDir);
    const { failedCollections } = engine.readiness();
    assert.equal(failedCollections.length, 1);
    assert.equal(failedCollections[0]?.name, "c");
    assert.match(failedCollections[0]!.error, /no valid snapshot \(1 rejected\)/);
    assert.throws(() => engine.getCollection("c"), CorruptionError);
    assert.equal(engine.getCollection("other").vectorCount, 0); // the others still serve
    await engine.close();
  });
});

Deno.test("restore into a running collection; survives restart; corrupt restore changes nothing", async () => {
  const random = seededRandom(testSeed("snapshot restore"));
  await withDataDir(async (dataDir) => {
    let engine = await open(dataDir);
    const collectionId = await createC(engine, "dot");
    const ids = Array.from({ length: 300 }, (_, n) => (n % 3 === 0 ? `p${n}` : n));
    await engine.upsert("c", batch(random, 0, 100));
    const first = await engine.createSnapshot("c");
    const atFirst = await everyPoint(engine, ids);
    await engine.upsert("c", batch(random, 50, 150));
    await engine.deletePoint("c", 2);
    const second = await engine.createSnapshot("c");
    const atSecond = await everyPoint(engine, ids);
    assert.equal(atSecond.size, 199);

    // Writes racing with the restore: each lands either before it (and is undone) or after.
    const racing = engine.upsert("c", [{ id: "racer", vector: randomVector(random, DIM) }]);
    const outcome = await engine.restoreSnapshot("c", first.snapshot_id);
    await racing;
    assert.equal(outcome.restored.snapshot_id, first.snapshot_id);
    assert.ok(outcome.checkpoint.lsn >= second.lsn + 1);
    assert.deepEqual(await everyPoint(engine, ids), atFirst);
    const racerKept = (await engine.getPoint("c", "racer")) === undefined ? 0 : 1;
    assert.equal(engine.getCollection("c").vectorCount, 100 + racerKept);
    await engine.upsert("c", [{ id: "after", vector: randomVector(random, DIM), metadata: {} }]);

    // A corrupt snapshot is refused and the collection keeps what it has.
    const latest = (await engine.listSnapshots("c"))[0]!;
    assert.equal(latest.snapshot_id, outcome.checkpoint.snapshot_id);
    const vectorsPath =
      `${dataDir}/collections/${collectionId}/snapshots/${latest.snapshot_id}/vectors.parquet`;
    const bytes = await Deno.readFile(vectorsPath);
    await Deno.writeFile(vectorsPath, bytes.subarray(0, bytes.length - 10));
    await assert.rejects(() => engine.restoreSnapshot("c", "latest"), CorruptionError);
    await assert.rejects(
      () => engine.restoreSnapshot("c", "00000000000000000001-00000000"),
      NotFoundError,
    );
    assert.equal(engine.getCollection("c").vectorCount, 101 + racerKept);
    await Deno.writeFile(vectorsPath, bytes); // repair, then restart
    await engine.close();

    engine = await open(dataDir);
    assert.deepEqual(engine.readiness().failedCollections, []);
    const expected = new Map(atFirst);
    const after = (await engine.getPoint("c", "after"))!;
    assert.deepEqual(await everyPoint(engine, ids), expected);
    assert.deepEqual(after.metadata, {});
    assert.equal(engine.getCollection("c").vectorCount, 101 + racerKept);
    await engine.close();
  });
});

Deno.test("writes during a snapshot are all kept; automatic snapshots by record count", async () => {
  const random = seededRandom(testSeed("snapshot concurrent"));
  await withDataDir(async (dataDir) => {
    let engine = await open(dataDir, "records_threshold = 10\ncheck_interval_ms = 100\n");
    const collectionId = await createC(engine, "l2");
    await engine.upsert("c", batch(random, 0, 500));
    const writes: Promise<unknown>[] = [];
    const snapshot = engine.createSnapshot("c");
    for (let b = 0; b < 20; b++) writes.push(engine.upsert("c", batch(random, 500 + b * 10, 10)));
    await Promise.all([snapshot, ...writes]);
    // 21 records since the snapshot at LSN 1 at the latest: the automatic one follows.
    const deadline = Date.now() + 5000;
    while (engine.collection("c").lastSnapshot!.lsn < 21 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(engine.collection("c").lastSnapshot?.lsn, 21);
    assert.ok(snapshotDirs(dataDir, collectionId).length <= 2); // retention = 2
    await engine.close();
    engine = await open(dataDir);
    assert.equal(engine.getCollection("c").vectorCount, 700);
    await engine.close();
  });
});
