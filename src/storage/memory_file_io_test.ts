import { CapacityError } from "../errors.ts";
import { MemoryFileIO, SeededRandom } from "./memory_file_io.ts";
import { assert, assertEquals, assertRejects, testSeed } from "./wal/_test_support.ts";

async function fileWithDir(io: MemoryFileIO, path: string) {
  await io.mkdir("/d");
  await io.syncDir("/");
  const file = await io.open(path, { mode: "createNew" });
  await io.syncDir("/d");
  return file;
}

Deno.test("MemoryFileIO crash: synced data survives, un-synced writes leave a prefix", async () => {
  const random = new SeededRandom(testSeed("memory crash prefix"));
  for (let round = 0; round < 200; round++) {
    const io = new MemoryFileIO({ seed: random.int(2 ** 31) });
    const file = await fileWithDir(io, "/d/f");
    const written: number[] = [];
    let syncedLength = 0;
    for (let op = 0; op < 10; op++) {
      const chunk = Array.from({ length: 1 + random.int(20) }, () => random.int(256));
      await file.write(new Uint8Array(chunk));
      written.push(...chunk);
      if (random.int(3) === 0) {
        await file.syncData();
        syncedLength = written.length;
      }
    }
    const kept = [...await io.crash().readFile("/d/f")];
    assert(kept.length >= syncedLength, `lost synced data: ${kept.length} < ${syncedLength}`);
    assertEquals(kept, written.slice(0, kept.length), "not a prefix:");
  }
});

Deno.test("MemoryFileIO crash: every outcome (kept, torn, dropped) occurs", async () => {
  const lengths = new Set<string>();
  for (let seed = 0; seed < 60; seed++) {
    const io = new MemoryFileIO({ seed });
    const file = await fileWithDir(io, "/d/f");
    await file.write(new Uint8Array(100));
    await file.syncData();
    await file.write(new Uint8Array(100));
    const length = (await io.crash().readFile("/d/f")).length;
    lengths.add(length === 200 ? "kept" : length === 100 ? "dropped" : "torn");
  }
  assertEquals([...lengths].sort(), ["dropped", "kept", "torn"]);
});

Deno.test("MemoryFileIO crash: an un-synced directory entry may vanish, a synced one stays", async () => {
  const outcomes = new Set<boolean>();
  for (let seed = 0; seed < 40; seed++) {
    const io = new MemoryFileIO({ seed });
    await io.mkdir("/d");
    await io.syncDir("/");
    const synced = await io.open("/d/synced", { mode: "createNew" });
    await io.syncDir("/d");
    await synced.write(new Uint8Array([1]));
    await synced.syncData();
    const loose = await io.open("/d/loose", { mode: "createNew" });
    await loose.write(new Uint8Array([2]));
    await loose.syncData();
    const restarted = io.crash();
    const names = await restarted.readDir("/d");
    assert(names.includes("synced"));
    outcomes.add(names.includes("loose"));
    assertEquals(await restarted.readFile("/d/synced"), new Uint8Array([1]));
  }
  assertEquals([...outcomes].sort(), [false, true]);
});

Deno.test("MemoryFileIO crash: the crashed view and its handles stop working", async () => {
  const io = new MemoryFileIO({ seed: 1 });
  const file = await fileWithDir(io, "/d/f");
  const restarted = io.crash();
  await assertRejects(() => file.write(new Uint8Array([1])), Error, "simulated crash");
  await assertRejects(() => io.open("/d/f"), Error, "simulated crash");
  const reopened = await restarted.open("/d/f");
  await reopened.write(new Uint8Array([1]));
  assertEquals(restarted.counters.crashes, 1);
});

Deno.test("MemoryFileIO: injected faults fire once; capacity raises CapacityError", async () => {
  const io = new MemoryFileIO({ seed: 1, capacityBytes: 10 });
  const file = await fileWithDir(io, "/d/f");
  io.injectFault("syncData", new Error("EIO"));
  await assertRejects(() => file.syncData(), Error, "EIO");
  await file.syncData();
  await file.write(new Uint8Array(8));
  await assertRejects(() => file.write(new Uint8Array(8)), CapacityError, "no space");
  assertEquals(io.totalSizeBytes(), 8);
  assertEquals(io.counters.syncData, 1);
  assertEquals(io.counters.writes, 1);
});
