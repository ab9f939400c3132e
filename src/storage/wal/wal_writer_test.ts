import { CapacityError, ConflictError, CorruptionError } from "../../errors.ts";
import { DiskFileIO } from "../disk_file_io.ts";
import type { FileHandle, FileIO } from "../file_io.ts";
import { MemoryFileIO } from "../memory_file_io.ts";
import type { WalEntry } from "./payload_codec.ts";
import { RecordType } from "./record_type.ts";
import { parseSyncMode } from "./sync_mode.ts";
import type { WalWriterOptions } from "./wal_options.ts";
import { WalWriter } from "./wal_writer.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./_test_support.ts";

const DIR = "/c1/wal";
const upsert = (id: number, dimension = 16): WalEntry => ({
  type: RecordType.Upsert,
  points: [{ id, vector: new Float32Array(dimension).fill(id) }],
});

async function openMemory(options: WalWriterOptions = {}, seed = 1) {
  const io = new MemoryFileIO({ seed });
  const wal = await WalWriter.open(io, DIR, options);
  io.counters.syncData = 0;
  io.counters.writes = 0;
  return { io, wal };
}

async function replayLsns(wal: WalWriter, afterLsn = 0): Promise<number[]> {
  const lsns: number[] = [];
  await wal.replay(afterLsn, (record) => void lsns.push(record.lsn));
  return lsns;
}

Deno.test("group commit: 1000 concurrent appends share one write and one syncData", async () => {
  const { io, wal } = await openMemory();
  const lsns = await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      wal.append(upsert(i)).then((lsn) => {
        assert(wal.durableLsn >= lsn, `LSN ${lsn} acknowledged before it was durable`);
        return lsn;
      })),
  );
  assertEquals(lsns, Array.from({ length: 1000 }, (_, i) => i + 1));
  assertEquals([io.counters.writes, io.counters.syncData], [1, 1]);
  await wal.close();
});

Deno.test("group commit: appenders in waves coalesce into far fewer syncs than appends", async () => {
  const { io, wal } = await openMemory();
  const appender = async (index: number) => {
    for (let step = 0; step < 50; step++) await wal.append(upsert(index * 100 + step));
  };
  await Promise.all(Array.from({ length: 40 }, (_, index) => appender(index)));
  assertEquals(wal.durableLsn, 2000);
  assert(io.counters.syncData <= 200, `${io.counters.syncData} syncs for 2000 appends`);
  assertEquals(io.counters.syncData, io.counters.writes);
  await wal.close();
});

Deno.test("group commit: groups are bounded in records and bytes", async () => {
  const byRecords = await openMemory({ groupRecordsMax: 10 });
  await Promise.all(Array.from({ length: 100 }, (_, i) => byRecords.wal.append(upsert(i))));
  assertEquals(byRecords.io.counters.writes, 10);
  await byRecords.wal.close();
  const byBytes = await openMemory({ groupBytesMax: 1024 });
  await Promise.all(Array.from({ length: 100 }, (_, i) => byBytes.wal.append(upsert(i)))); // 103 bytes each
  assertEquals(byBytes.io.counters.writes, 10);
  await byBytes.wal.close();
});

Deno.test("rotation: segments named by first LSN, bounded in size, replayed in order", async () => {
  const { io, wal } = await openMemory({ segmentSizeBytes: 1024 });
  for (let i = 0; i < 50; i++) await wal.append(upsert(i));
  const segments = wal.segments;
  assert(segments.length >= 5, `only ${segments.length} segments`);
  for (const segment of segments) {
    assert(segment.sizeBytes <= 1024, `${segment.path} has ${segment.sizeBytes}`);
  }
  assertEquals(segments[1]!.path, `${DIR}/${String(segments[1]!.firstLsn).padStart(20, "0")}.wal`);
  assertEquals(await replayLsns(wal), Array.from({ length: 50 }, (_, i) => i + 1));
  assertEquals(wal.sizeBytes, io.totalSizeBytes());
  await wal.close();
});

Deno.test("deleteSegmentsBefore: whole segments only, the active one stays, replay follows", async () => {
  const { io, wal } = await openMemory({ segmentSizeBytes: 1024 });
  for (let i = 0; i < 50; i++) await wal.append(upsert(i));
  const before = wal.segments;
  const keepFrom = before[3]!.firstLsn + 2;
  assertEquals(await wal.deleteSegmentsBefore(keepFrom), 3);
  assertEquals(wal.segments[0]!.firstLsn, before[3]!.firstLsn);
  assertEquals((await io.readDir(DIR)).length, before.length - 3);
  assertEquals(
    await replayLsns(wal, keepFrom - 1),
    Array.from({ length: 51 - keepFrom }, (_, i) => keepFrom + i),
  );
  await assertRejects(() => replayLsns(wal, 0), CorruptionError, "starts at LSN");
  assertEquals(await wal.deleteSegmentsBefore(Number.MAX_SAFE_INTEGER), before.length - 4);
  assertEquals(wal.segments.length, 1);
  assertEquals(await wal.append(upsert(99)), 51);
  await wal.close();
  const reopened = await WalWriter.open(io, DIR, { replayAfterLsn: 50, onRecord: () => {} });
  assertEquals([reopened.openReport.replayedCount, reopened.nextLsn], [1, 52]);
  await reopened.close();
});

/** A FileIO whose syncData waits until the test opens the gate. */
function gatedSync(inner: FileIO): { io: FileIO; open(): void } {
  let release: () => void = () => {};
  let gate = new Promise<void>((resolve) => release = resolve);
  const wrap = (handle: FileHandle): FileHandle => ({
    path: handle.path,
    write: (data) => handle.write(data),
    readAt: (offset, length) => handle.readAt(offset, length),
    truncate: (size) => handle.truncate(size),
    sizeBytes: () => handle.sizeBytes(),
    close: () => handle.close(),
    syncData: async () => {
      await gate;
      await handle.syncData();
    },
  });
  const io: FileIO = {
    open: async (path, options) => wrap(await inner.open(path, options)),
    readFile: (path, into) => inner.readFile(path, into),
    remove: (path) => inner.remove(path),
    rename: (from, to) => inner.rename(from, to),
    readDir: (path) => inner.readDir(path),
    mkdir: (path) => inner.mkdir(path),
    syncDir: (path) => inner.syncDir(path),
    stat: (path) => inner.stat(path),
  };
  return {
    io,
    open() {
      release();
      gate = Promise.resolve();
    },
  };
}

Deno.test("back-pressure: appends wait for queue space, in order; the waiting line is bounded", async () => {
  const memory = new MemoryFileIO({ seed: 1 });
  await (await WalWriter.open(memory, DIR)).close();
  const gated = gatedSync(memory);
  const wal = await WalWriter.open(gated.io, DIR, {
    queueBytesMax: 1024,
    groupBytesMax: 1024,
    appendersWaitingMax: 30,
  });
  const pending = Array.from({ length: 40 }, (_, i) => wal.append(upsert(i)));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals(wal.nextLsn, 10 + 1, "only what fits 1024 bytes got an LSN:");
  const refused = wal.append(upsert(99));
  await assertRejects(() => refused, CapacityError, "30 appenders already wait");
  gated.open();
  assertEquals(await Promise.all(pending), Array.from({ length: 40 }, (_, i) => i + 1));
  await wal.close();
});

Deno.test("sync mode none: appends resolve after write; fsync only on sync() and close()", async () => {
  const { io, wal } = await openMemory({ syncMode: parseSyncMode("none") });
  await Promise.all(Array.from({ length: 20 }, (_, i) => wal.append(upsert(i))));
  assertEquals([io.counters.syncData, wal.writtenLsn, wal.durableLsn], [0, 20, 0]);
  await wal.sync();
  assertEquals([io.counters.syncData, wal.durableLsn], [1, 20]);
  await wal.append(upsert(21));
  await wal.close();
  assertEquals([io.counters.syncData, wal.durableLsn], [2, 21]);
});

Deno.test("sync mode interval: appends resolve before fsync, which follows within the interval", async () => {
  const { io, wal } = await openMemory({ syncMode: parseSyncMode("interval:30") });
  await wal.append(upsert(1));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(io.counters.syncData, 1, "first write: the interval since the last sync has passed");
  const started = performance.now();
  for (let i = 2; i <= 20; i++) await wal.append(upsert(i));
  assert(wal.durableLsn < 20 || performance.now() - started >= 30);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assertEquals(wal.durableLsn, 20);
  const elapsedMs = performance.now() - started;
  assert(
    io.counters.syncData <= 2 + elapsedMs / 30,
    `${io.counters.syncData} syncs in ${elapsedMs} ms`,
  );
  await wal.close();
});

Deno.test("I/O failure stops the writer: the group and every later call fail", async () => {
  const { io, wal } = await openMemory();
  await wal.append(upsert(1));
  io.injectFault("syncData", new Error("EIO: simulated"));
  const group = [wal.append(upsert(2)), wal.append(upsert(3))];
  for (const append of group) await assertRejects(() => append, Error, "EIO");
  await assertRejects(() => wal.append(upsert(4)), Error, "EIO");
  await assertRejects(() => wal.close(), Error, "EIO");
});

Deno.test("bad entries consume no LSN; a closed writer refuses appends", async () => {
  const { wal } = await openMemory();
  await assertRejects(() => wal.append({ type: RecordType.Delete, ids: [] }), RangeError);
  assertEquals(await wal.append(upsert(1)), 1);
  await wal.close();
  await assertRejects(() => wal.append(upsert(2)), ConflictError, "closed");
  assertThrows(() => parseSyncMode("sometimes"), SyntaxError);
  assertThrows(() => parseSyncMode("interval:0"), RangeError);
  await assertRejects(() => openMemory({ segmentSizeBytes: 10 }), RangeError, "segmentSizeBytes");
});

Deno.test("observer: one onAppend per record with its bytes, one onFsync per sync", async () => {
  const appends: number[] = [];
  const fsyncs: number[] = [];
  const observer = {
    onAppend: (seconds: number, bytes: number) =>
      void appends.push(bytes + (seconds >= 0 ? 0 : NaN)),
    onFsync: (seconds: number) => void fsyncs.push(seconds),
  };
  const { wal } = await openMemory({ observer });
  await Promise.all([wal.append(upsert(1)), wal.append(upsert(2, 4))]);
  assertEquals(appends, [17 + 8 + 9 + 64, 17 + 8 + 9 + 16]); // header, counts, integer id, floats
  assertEquals(fsyncs.length, 1);
  await wal.close();
});

Deno.test("on the real disk: append, rotate, reopen, replay", async () => {
  const root = await Deno.makeTempDir({ prefix: "akidb-wal-" });
  try {
    const io = new DiskFileIO();
    const dir = `${root}/c1/wal`;
    const wal = await WalWriter.open(io, dir, { segmentSizeBytes: 4096, groupBytesMax: 1024 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(upsert(i))));
    assert(wal.segments.length > 1);
    await wal.close();
    const seen: number[] = [];
    const again = await WalWriter.open(io, dir, {
      replayAfterLsn: 0,
      onRecord: (r) => void seen.push(r.lsn),
    });
    assertEquals(seen, Array.from({ length: 200 }, (_, i) => i + 1));
    assertEquals(await again.append(upsert(1)), 201);
    await again.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("close while appends wait for queue space: admitted ones land, waiting ones fail", async () => {
  const memory = new MemoryFileIO({ seed: 1 });
  await (await WalWriter.open(memory, DIR)).close();
  const gated = gatedSync(memory);
  const wal = await WalWriter.open(gated.io, DIR, { queueBytesMax: 1024, groupBytesMax: 1024 });
  const pending = Array.from(
    { length: 40 },
    (_, i) => wal.append(upsert(i)).then(() => "ok", (e) => e.name),
  );
  await new Promise((resolve) => setTimeout(resolve, 10));
  const closing = wal.close();
  gated.open();
  await closing;
  const outcomes = await Promise.all(pending);
  assertEquals(outcomes.filter((o) => o === "ok").length, 10);
  assertEquals(outcomes.filter((o) => o === "ConflictError").length, 30);
});
