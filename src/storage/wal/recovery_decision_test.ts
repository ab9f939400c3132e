/** The recovery decision table: one test per row, each on the pure function and on real bytes. */
import { CorruptionError } from "../../errors.ts";
import { encodeRecord } from "./record_codec.ts";
import {
  decideRecovery,
  type FrameFacts,
  RECOVERY_TABLE,
  RecoveryAction,
} from "./recovery_decision.ts";
import { WalWriter } from "./wal_writer.ts";
import { ioWithSegments, recordsBytes, segmentPath, WAL_DIR } from "./_wal_fixture.ts";
import { assert, assertEquals, assertRejects } from "./_test_support.ts";
import type { WalRecord } from "./wal_recovery.ts";

const VALID: FrameFacts = {
  bytesLeft: true,
  headerComplete: true,
  lengthValid: true,
  bodyComplete: true,
  crcOk: true,
  lsnContiguous: true,
  typeKnown: true,
  atTail: false,
};
const HEADER_TORN = {
  ...VALID,
  headerComplete: false,
  lengthValid: false,
  bodyComplete: false,
  crcOk: false,
};
const LENGTH_BAD = { ...VALID, lengthValid: false, bodyComplete: false, crcOk: false };
const BODY_TORN = { ...VALID, bodyComplete: false, crcOk: false };
const CRC_BAD = { ...VALID, crcOk: false };
const notCheckable = { lsnContiguous: false, typeKnown: false };

/** Open the WAL and return the LSNs it replays, or throw what open throws. */
async function recover(segments: { firstLsn: number; bytes: Uint8Array }[]) {
  const io = await ioWithSegments(segments);
  const lsns: number[] = [];
  const wal = await WalWriter.open(io, WAL_DIR, {
    replayAfterLsn: 0,
    onRecord: (record: WalRecord) => void lsns.push(record.lsn),
  });
  await wal.close();
  return { io, lsns, wal };
}

function expectRow(facts: FrameFacts, row: number, action: RecoveryAction): void {
  const decided = decideRecovery(facts);
  assertEquals([decided.row, decided.action], [row, action]);
}

Deno.test("row 1: no byte left -> end of segment, next segment", async () => {
  expectRow(
    { ...VALID, ...notCheckable, bytesLeft: false, headerComplete: false, crcOk: false },
    1,
    RecoveryAction.EndOfSegment,
  );
  const one = recordsBytes([1, 2]).bytes;
  const { lsns } = await recover([{ firstLsn: 1, bytes: one }, {
    firstLsn: 3,
    bytes: recordsBytes([3]).bytes,
  }]);
  assertEquals(lsns, [1, 2, 3]);
});

Deno.test("row 2: incomplete header at the tail -> truncate", async () => {
  expectRow({ ...HEADER_TORN, ...notCheckable, atTail: true }, 2, RecoveryAction.TruncateTail);
  const { bytes, offsets } = recordsBytes([1, 2, 3]);
  const cut = offsets[2]! + 10;
  const { lsns, wal, io } = await recover([{ firstLsn: 1, bytes: bytes.subarray(0, cut) }]);
  assertEquals(lsns, [1, 2]);
  assertEquals(wal.openReport.truncated?.row, 2);
  assertEquals((await io.readFile(segmentPath(1))).length, offsets[2]);
});

Deno.test("row 3: incomplete header before the tail -> refuse", async () => {
  expectRow({ ...HEADER_TORN, ...notCheckable }, 3, RecoveryAction.Refuse);
  const { bytes, offsets } = recordsBytes([1, 2, 3]);
  const error = await assertRejects(
    () =>
      recover([{ firstLsn: 1, bytes: bytes.subarray(0, offsets[2]! + 10) }, {
        firstLsn: 3,
        bytes: recordsBytes([3]).bytes,
      }]),
    CorruptionError,
    `"${segmentPath(1)}" at offset ${offsets[2]}`,
  );
  assert(error.message.includes("row 3"), error.message);
});

Deno.test("row 4: invalid length at the tail -> truncate", async () => {
  expectRow({ ...LENGTH_BAD, ...notCheckable, atTail: true }, 4, RecoveryAction.TruncateTail);
  const { bytes, offsets } = recordsBytes([1, 2, 3]);
  new DataView(bytes.buffer).setUint32(offsets[2]!, 2, true);
  const { lsns, wal } = await recover([{ firstLsn: 1, bytes }]);
  assertEquals([lsns, wal.openReport.truncated?.row], [[1, 2], 4]);
});

Deno.test("row 5: invalid length before the tail -> refuse", async () => {
  expectRow({ ...LENGTH_BAD, ...notCheckable }, 5, RecoveryAction.Refuse);
  const { bytes, offsets } = recordsBytes([1, 2, 3]);
  new DataView(bytes.buffer).setUint32(offsets[1]!, 0xffffffff, true);
  await assertRejects(
    () => recover([{ firstLsn: 1, bytes }]),
    CorruptionError,
    `offset ${offsets[1]}: invalid length`,
  );
});

Deno.test("row 6: incomplete body at the tail -> truncate", async () => {
  expectRow({ ...BODY_TORN, ...notCheckable, atTail: true }, 6, RecoveryAction.TruncateTail);
  const { bytes } = recordsBytes([1, 2, 3]);
  const { lsns, wal } = await recover([{
    firstLsn: 1,
    bytes: bytes.subarray(0, bytes.length - 1),
  }]);
  assertEquals([lsns, wal.openReport.truncated?.row], [[1, 2], 6]);
});

Deno.test("row 7: incomplete body before the tail -> refuse", async () => {
  expectRow({ ...BODY_TORN, ...notCheckable }, 7, RecoveryAction.Refuse);
  const { bytes, offsets } = recordsBytes([1, 2, 3]);
  new DataView(bytes.buffer).setUint32(offsets[1]!, 1000, true);
  await assertRejects(
    () => recover([{ firstLsn: 1, bytes }]),
    CorruptionError,
    "incomplete body before the tail",
  );
});

Deno.test("row 8: checksum mismatch at the tail -> truncate", async () => {
  expectRow({ ...CRC_BAD, ...notCheckable, atTail: true }, 8, RecoveryAction.TruncateTail);
  const { bytes } = recordsBytes([1, 2, 3]);
  bytes[bytes.length - 2]! ^= 0x10;
  const { lsns, wal } = await recover([{ firstLsn: 1, bytes }]);
  assertEquals([lsns, wal.openReport.truncated?.row], [[1, 2], 8]);
});

Deno.test("row 9: checksum mismatch before the tail -> refuse", async () => {
  expectRow({ ...CRC_BAD, ...notCheckable }, 9, RecoveryAction.Refuse);
  const { bytes, offsets } = recordsBytes([1, 2, 3]);
  bytes[offsets[1]! + 20]! ^= 0x01;
  await assertRejects(
    () => recover([{ firstLsn: 1, bytes }]),
    CorruptionError,
    "checksum mismatch before the tail",
  );
});

Deno.test("row 10: valid record with an unexpected LSN -> refuse, even at the tail", async () => {
  expectRow({ ...VALID, lsnContiguous: false, atTail: true }, 10, RecoveryAction.Refuse);
  const { bytes, offsets } = recordsBytes([1, 2, 4]);
  await assertRejects(
    () => recover([{ firstLsn: 1, bytes }]),
    CorruptionError,
    `offset ${offsets[2]}: valid record with an unexpected LSN`,
  );
});

Deno.test("row 11: valid record of an unknown type -> refuse", async () => {
  expectRow({ ...VALID, typeKnown: false }, 11, RecoveryAction.Refuse);
  const bytes = new Uint8Array([
    ...recordsBytes([1, 2]).bytes,
    ...encodeRecord(3, 9 as never, new Uint8Array(4)),
  ]);
  await assertRejects(() => recover([{ firstLsn: 1, bytes }]), CorruptionError, "unknown type");
});

Deno.test("row 12: valid record -> keep", async () => {
  expectRow(VALID, 12, RecoveryAction.Keep);
  const { lsns } = await recover([{ firstLsn: 1, bytes: recordsBytes([1, 2, 3]).bytes }]);
  assertEquals(lsns, [1, 2, 3]);
});

/** Facts recovery can produce: each check implies the ones before it. */
function consistent(f: FrameFacts): boolean {
  return (f.bytesLeft || !f.headerComplete) && (f.headerComplete || !f.lengthValid) &&
    (f.lengthValid || !f.bodyComplete) && (f.bodyComplete || !f.crcOk) &&
    (f.crcOk || (!f.lsnContiguous && !f.typeKnown));
}

Deno.test("decision table: every consistent combination of facts obeys the safety rules", () => {
  const names = Object.keys(VALID) as (keyof FrameFacts)[];
  let checked = 0;
  for (let mask = 0; mask < 1 << names.length; mask++) {
    const facts = Object.fromEntries(
      names.map((name, bit) => [name, (mask >> bit & 1) === 1]),
    ) as unknown as FrameFacts;
    if (!consistent(facts)) continue;
    checked += 1;
    const { action } = decideRecovery(facts);
    if (action === RecoveryAction.Keep) {
      assert(facts.crcOk && facts.lsnContiguous && facts.typeKnown, "kept a bad record");
    }
    if (action === RecoveryAction.TruncateTail) {
      assert(facts.atTail && !facts.crcOk, "truncated a valid record or before the tail");
    }
    if (facts.bytesLeft && !facts.crcOk && !facts.atTail) {
      assertEquals(action, RecoveryAction.Refuse);
    }
    if (!facts.bytesLeft) assertEquals(action, RecoveryAction.EndOfSegment);
  }
  assertEquals(checked, 18);
  assertEquals(RECOVERY_TABLE.map((row) => row.row), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

Deno.test("decision table: the precomputed lookup agrees with first-match on all 256 combinations", () => {
  const names = Object.keys(VALID) as (keyof FrameFacts)[];
  for (let mask = 0; mask < 1 << names.length; mask++) {
    const facts = Object.fromEntries(
      names.map((name, bit) => [name, (mask >> bit & 1) === 1]),
    ) as unknown as FrameFacts;
    const firstMatch = RECOVERY_TABLE.find((row) =>
      names.every((name) => row.when[name] === undefined || row.when[name] === facts[name])
    );
    assertEquals(decideRecovery(facts).row, firstMatch?.row, `facts mask ${mask}`);
  }
});

Deno.test("segment rules: a gap between segments or a WAL starting after the snapshot -> refuse", async () => {
  await assertRejects(
    () =>
      recover([{ firstLsn: 1, bytes: recordsBytes([1, 2]).bytes }, {
        firstLsn: 4,
        bytes: recordsBytes([4]).bytes,
      }]),
    CorruptionError,
    "starts at LSN 4, expected 3",
  );
  const io = await ioWithSegments([{ firstLsn: 5, bytes: recordsBytes([5, 6]).bytes }]);
  await assertRejects(
    () => WalWriter.open(io, WAL_DIR, { replayAfterLsn: 3, onRecord: () => {} }),
    CorruptionError,
    "starts at LSN 5",
  );
  await assertRejects(
    () => WalWriter.open(io, WAL_DIR, { replayAfterLsn: 9, onRecord: () => {} }),
    CorruptionError,
    "ends at LSN 6",
  );
  const wal = await WalWriter.open(io, WAL_DIR, { replayAfterLsn: 4, onRecord: () => {} });
  assertEquals([wal.openReport.replayedCount, wal.nextLsn], [2, 7]);
  await wal.close();
});
