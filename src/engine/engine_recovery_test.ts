import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { randomVector, seededRandom, testSeed } from "../../tests/support/seeded_random.ts";
import { CorruptionError, NotFoundError } from "../errors.ts";
import { MemoryFileIO } from "../storage/memory_file_io.ts";
import { logLines, openEngine, withDataDir } from "./_engine_test_support.ts";

const v = (...values: number[]) => new Float32Array(values);

function walFiles(dataDir: string, id: string): string[] {
  const dir = `${dataDir}/collections/${id}/wal`;
  return [...Deno.readDirSync(dir)].map((entry) => `${dir}/${entry.name}`).sort();
}

Deno.test("engine: restart recovers every point, vector and metadata from the WAL", async () => {
  const seed = testSeed("engine restart");
  const random = seededRandom(seed);
  await withDataDir(async (dataDir) => {
    let engine = await openEngine(dataDir);
    const info = await engine.createCollection({ name: "c", dimension: 4, metric: "cosine" });
    await engine.createCollection({ name: "empty", dimension: 2, metric: "dot" });
    for (let batch = 0; batch < 5; batch++) {
      await engine.upsert(
        "c",
        Array.from({ length: 40 }, (_, i) => ({
          id: batch * 40 + i,
          vector: randomVector(random, 4),
          metadata: { batch, text: `p${i}` },
        })),
      );
    }
    await engine.upsert("c", [{ id: "named", vector: v(1, 2, 3, 4) }, {
      id: 3,
      vector: v(4, 3, 2, 1),
    }]);
    await engine.deletePoint("c", 5);
    const before = new Map(
      await Promise.all(
        [..."x".repeat(200)].map(async (_, i) => [i, await engine.getPoint("c", i)] as const),
      ),
    );
    const query = randomVector(random, 4);
    const hitsBefore = await engine.search("c", { vector: query, k: 10, efSearch: 500 });
    await engine.close();

    engine = await openEngine(dataDir);
    assert.deepEqual(engine.readiness(), { recovered: true, failedCollections: [] });
    assert.deepEqual(engine.getCollection("c"), { ...info, vectorCount: 200 });
    assert.equal(engine.getCollection("empty").vectorCount, 0);
    for (const [id, point] of before) {
      assert.deepEqual(await engine.getPoint("c", id), point, `id ${id}`);
    }
    assert.equal(await engine.getPoint("c", 5), undefined);
    assert.deepEqual((await engine.getPoint("c", "named"))?.metadata, undefined);
    assert.deepEqual((await engine.getPoint("c", 3))?.vector, before.get(3)?.vector);
    const hitsAfter = await engine.search("c", { vector: query, k: 10, efSearch: 500 });
    assert.deepEqual(hitsAfter.map((h) => h.id), hitsBefore.map((h) => h.id), `seed ${seed}`);
    // LSNs continue after the recovered ones: 1 create-free WAL, 6 upserts + 1 delete.
    assert.equal((await engine.upsert("c", [{ id: 999, vector: v(1, 1, 1, 1) }])).lsn, 8);
    await engine.close();
  });
});

Deno.test("engine: a torn WAL tail is cut off and the acknowledged prefix is served", async () => {
  await withDataDir(async (dataDir) => {
    let engine = await openEngine(dataDir);
    const { collectionId } = await engine.createCollection({
      name: "c",
      dimension: 2,
      metric: "l2",
    });
    await engine.upsert("c", [{ id: 1, vector: v(1, 1) }]);
    await engine.upsert("c", [{ id: 2, vector: v(2, 2) }]);
    await engine.close();
    const [segment] = walFiles(dataDir, collectionId);
    const bytes = Deno.readFileSync(segment!);
    // A third record half-written: a copy of the second one, cut in the middle.
    const half = bytes.subarray(bytes.length / 2, bytes.length - 5);
    Deno.writeFileSync(segment!, half, { append: true });

    engine = await openEngine(dataDir);
    assert.deepEqual(engine.readiness().failedCollections, []);
    assert.equal(engine.getCollection("c").vectorCount, 2);
    assert.deepEqual((await engine.getPoint("c", 2))?.vector, v(2, 2));
    assert.equal((await engine.upsert("c", [{ id: 3, vector: v(3, 3) }])).lsn, 3);
    await engine.close();
    engine = await openEngine(dataDir);
    assert.equal(engine.getCollection("c").vectorCount, 3);
    await engine.close();
  });
});

Deno.test("engine: corruption before the WAL tail fails that collection only", async () => {
  await withDataDir(async (dataDir) => {
    let engine = await openEngine(dataDir);
    const bad = await engine.createCollection({ name: "bad", dimension: 2, metric: "l2" });
    await engine.createCollection({ name: "good", dimension: 2, metric: "l2" });
    for (let i = 0; i < 3; i++) {
      await engine.upsert("bad", [{ id: i, vector: v(i, i) }]);
      await engine.upsert("good", [{ id: i, vector: v(i, i) }]);
    }
    await engine.close();
    const [segment] = walFiles(dataDir, bad.collectionId);
    const bytes = Deno.readFileSync(segment!);
    bytes[30] = bytes[30]! ^ 0xff; // inside the first of three records
    Deno.writeFileSync(segment!, bytes);

    logLines.length = 0;
    engine = await openEngine(dataDir);
    const readiness = engine.readiness();
    assert.equal(readiness.recovered, true);
    assert.equal(readiness.failedCollections.length, 1);
    assert.equal(readiness.failedCollections[0]?.name, "bad");
    assert.match(readiness.failedCollections[0]!.error, /checksum|corrupt/i);
    assert.ok(logLines.some((line) => line.includes("collection failed to recover")));
    assert.throws(() => engine.getCollection("bad"), CorruptionError);
    await assert.rejects(engine.upsert("bad", [{ id: 9, vector: v(0, 0) }]), (error) => {
      assert.ok(error instanceof CorruptionError);
      assert.equal(error.code, "collection_unavailable");
      return true;
    });
    assert.deepEqual(engine.listCollections().map((c) => c.name), ["good"]);
    assert.equal(engine.getCollection("good").vectorCount, 3);
    assert.equal((await engine.search("good", { vector: v(2, 2), k: 1 }))[0]?.id, 2);
    // An operator can drop the failed collection.
    await engine.deleteCollection("bad");
    assert.deepEqual(engine.readiness().failedCollections, []);
    assert.throws(() => engine.getCollection("bad"), NotFoundError);
    await engine.close();
  });
});

Deno.test("engine: interrupted creates are rolled back and drops finished on start", async () => {
  await withDataDir(async (dataDir) => {
    let engine = await openEngine(dataDir);
    const keep = await engine.createCollection({ name: "keep", dimension: 2, metric: "l2" });
    const dropping = await engine.createCollection({
      name: "dropping",
      dimension: 2,
      metric: "l2",
    });
    await engine.upsert("keep", [{ id: 1, vector: v(1, 1) }]);
    await engine.upsert("dropping", [{ id: 1, vector: v(1, 1) }]);
    await engine.close();
    // Simulate crashes at every step: a create before and after its mkdir, a drop before its
    // directory was removed, a drop after it, and a directory no row knows.
    const db = new DatabaseSync(`${dataDir}/catalog.sqlite`);
    const insert = db.prepare(
      `INSERT INTO collections VALUES (?, ?, 2, 'l2', 16, 200, 64, '2026-01-01T00:00:00.000Z', ?)`,
    );
    insert.run("0190a0b0-0000-7000-8000-000000000001", "half-created", "creating");
    Deno.mkdirSync(`${dataDir}/collections/0190a0b0-0000-7000-8000-000000000001/wal`, {
      recursive: true,
    });
    insert.run("0190a0b0-0000-7000-8000-000000000002", "row-only", "creating");
    insert.run("0190a0b0-0000-7000-8000-000000000003", "dir-gone", "dropping");
    db.prepare("UPDATE collections SET state = 'dropping' WHERE id = ?").run(dropping.collectionId);
    db.close();
    Deno.mkdirSync(`${dataDir}/collections/0190a0b0-0000-7000-8000-00000000dead/wal`, {
      recursive: true,
    });

    engine = await openEngine(dataDir);
    assert.deepEqual(engine.listCollections().map((c) => c.name), ["keep"]);
    assert.equal(engine.getCollection("keep").vectorCount, 1);
    const dirs = [...Deno.readDirSync(`${dataDir}/collections`)].map((e) => e.name);
    assert.deepEqual(dirs, [keep.collectionId]);
    // The names are free again.
    for (const name of ["half-created", "row-only", "dir-gone", "dropping"]) {
      await engine.createCollection({ name, dimension: 2, metric: "l2" });
    }
    assert.equal(engine.getCollection("dropping").vectorCount, 0);
    await engine.close();
    const check = new DatabaseSync(`${dataDir}/catalog.sqlite`);
    const states = check.prepare("SELECT DISTINCT state FROM collections").all();
    check.close();
    assert.deepEqual(states.map((row) => ({ ...row })), [{ state: "ready" }]);
  });
});

Deno.test("engine: after power loss every acknowledged upsert is recovered", async () => {
  const seed = testSeed("engine power loss");
  const random = seededRandom(seed);
  await withDataDir(async (dataDir) => {
    for (let round = 0; round < 5; round++) {
      const io = new MemoryFileIO({ seed: seed + round });
      const engine = await openEngine(dataDir, io);
      const name = `c${round}`;
      await engine.createCollection({ name, dimension: 3, metric: "l2" });
      const acknowledged = new Map<number, Float32Array>();
      const writes: Promise<unknown>[] = [];
      // Power fails right after a write is issued, with up to six writes in flight.
      const crashAt = 20 + Math.floor(random() * 200);
      for (let i = 0; i <= crashAt; i++) {
        const vector = randomVector(random, 3);
        const write = engine.upsert(name, [{ id: i, vector, metadata: { i } }])
          .then(() => void acknowledged.set(i, vector), () => undefined);
        writes.push(write);
        if (i % 7 === 0 && i !== crashAt) await write;
      }
      const restarted = io.crash();
      await Promise.all(writes);
      assert.ok(acknowledged.size > 0);
      await engine.close().catch(() => undefined);

      const again = await openEngine(dataDir, restarted);
      assert.deepEqual(again.readiness().failedCollections, [], `seed ${seed}`);
      for (const [id, vector] of acknowledged) {
        const point = await again.getPoint(name, id);
        assert.deepEqual(point?.vector, vector, `seed ${seed}, round ${round}, id ${id}`);
        assert.deepEqual(point?.metadata, { i: id });
      }
      assert.ok(again.getCollection(name).vectorCount >= acknowledged.size);
      // Still writable after recovery.
      await again.upsert(name, [{ id: 1000, vector: v(1, 2, 3) }]);
      await again.close();
      // Keep the on-disk catalog in step with the next round's fresh in-memory disk.
      await Deno.remove(`${dataDir}/catalog.sqlite`);
      for (const suffix of ["-wal", "-shm"]) {
        await Deno.remove(`${dataDir}/catalog.sqlite${suffix}`).catch(() => undefined);
      }
    }
  });
});
