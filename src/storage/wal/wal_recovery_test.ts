/** Corruption table: every truncation point and every bit flip of a small WAL. */
import { CorruptionError } from "../../errors.ts";
import type { MemoryFileIO } from "../memory_file_io.ts";
import { encodeRecord } from "./record_codec.ts";
import { RecordType } from "./record_type.ts";
import { WalWriter } from "./wal_writer.ts";
import type { WalRecord } from "./wal_recovery.ts";
import { entryFor, ioWithSegments, recordsBytes, segmentPath, WAL_DIR } from "./_wal_fixture.ts";
import { assertEquals, assertRejects } from "./_test_support.ts";

const RECORD_COUNT = 5;

async function replayAll(
  io: MemoryFileIO,
  afterLsn = 0,
): Promise<{ wal: WalWriter; records: WalRecord[] }> {
  const records: WalRecord[] = [];
  const wal = await WalWriter.open(io, WAL_DIR, {
    replayAfterLsn: afterLsn,
    onRecord: (record) => void records.push(record),
  });
  return { wal, records };
}

/** Reopen, check the kept prefix, append one record, reopen again and check it is there. */
async function expectPrefixThenAppend(io: MemoryFileIO, keptCount: number): Promise<void> {
  const { wal, records } = await replayAll(io);
  assertEquals(
    records.map((record) => record.lsn),
    Array.from({ length: keptCount }, (_, i) => i + 1),
  );
  assertEquals(
    records.map(({ lsn: _lsn, ...entry }) => entry),
    records.map((r) => entryFor(r.lsn)),
  );
  const lsn = await wal.append({ type: RecordType.Delete, ids: ["after"] });
  assertEquals(lsn, keptCount + 1);
  await wal.close();
  const again = await replayAll(io);
  assertEquals(again.records.length, keptCount + 1);
  assertEquals(again.records.at(-1), {
    type: RecordType.Delete,
    ids: ["after"],
    lsn: keptCount + 1,
  });
  await again.wal.close();
}

Deno.test("every truncation point of a 5-record WAL: the intact prefix is kept, appends work", async () => {
  const { bytes, offsets } = recordsBytes([1, 2, 3, 4, 5]);
  const ends = [...offsets.slice(1), bytes.length];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const io = await ioWithSegments([{ firstLsn: 1, bytes: bytes.slice(0, cut) }]);
    await expectPrefixThenAppend(io, ends.filter((end) => end <= cut).length);
  }
});

Deno.test("every truncation point of the last of two segments: the first segment stays whole", async () => {
  const first = recordsBytes([1, 2]).bytes;
  const { bytes, offsets } = recordsBytes([3, 4, 5]);
  const ends = [...offsets.slice(1), bytes.length];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const io = await ioWithSegments([{ firstLsn: 1, bytes: first }, {
      firstLsn: 3,
      bytes: bytes.slice(0, cut),
    }]);
    await expectPrefixThenAppend(io, 2 + ends.filter((end) => end <= cut).length);
  }
});

Deno.test("a bit flip in every bit of every record: middle refuses, last is truncated", async () => {
  const { bytes, offsets } = recordsBytes([1, 2, 3, 4, 5]);
  const ends = [...offsets.slice(1), bytes.length];
  for (let record = 0; record < RECORD_COUNT; record++) {
    for (let at = offsets[record]!; at < ends[record]!; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = bytes.slice();
        damaged[at]! ^= 1 << bit;
        const io = await ioWithSegments([{ firstLsn: 1, bytes: damaged }]);
        if (record < RECORD_COUNT - 1) {
          await assertRejects(
            () => replayAll(io),
            CorruptionError,
            `"${segmentPath(1)}" at offset ${offsets[record]}`,
          );
        } else {
          await expectPrefixThenAppend(io, RECORD_COUNT - 1);
        }
      }
    }
  }
});

Deno.test("a bit flip in a sealed segment refuses even in its last record", async () => {
  const first = recordsBytes([1, 2]);
  first.bytes[first.bytes.length - 3]! ^= 4;
  const io = await ioWithSegments([
    { firstLsn: 1, bytes: first.bytes },
    { firstLsn: 3, bytes: recordsBytes([3]).bytes },
  ]);
  await assertRejects(
    () => replayAll(io),
    CorruptionError,
    `offset ${first.offsets[1]}: checksum mismatch before the tail`,
  );
});

Deno.test("replay after a snapshot LSN hands over only later records", async () => {
  const io = await ioWithSegments([
    { firstLsn: 1, bytes: recordsBytes([1, 2]).bytes },
    { firstLsn: 3, bytes: recordsBytes([3, 4, 5]).bytes },
  ]);
  const { wal, records } = await replayAll(io, 3);
  assertEquals(records.map((record) => record.lsn), [4, 5]);
  const live: number[] = [];
  assertEquals(await wal.replay(1, (record) => void live.push(record.lsn)), 4);
  assertEquals(live, [2, 3, 4, 5]);
  await wal.close();
});

Deno.test("a damaged payload behind a valid checksum refuses with the file and offset", async () => {
  const { bytes } = recordsBytes([1, 2]);
  const payload = new Uint8Array([1, 0, 0, 0, 0x80]);
  const io = await ioWithSegments([
    {
      firstLsn: 1,
      bytes: new Uint8Array([...bytes, ...encodeRecord(3, RecordType.Delete, payload)]),
    },
  ]);
  await assertRejects(
    () => replayAll(io),
    CorruptionError,
    `"${segmentPath(1)}" at offset ${bytes.length} (LSN 3)`,
  );
});
