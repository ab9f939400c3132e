import { crc32c } from "./crc32c.ts";
import { encodeRecord, encodeRecordInto, readFrame, RECORD_BYTES_MAX } from "./record_codec.ts";
import { RecordType } from "./record_type.ts";
import { assertEquals, assertThrows } from "./_test_support.ts";

Deno.test("record codec: the header has the documented layout", () => {
  const payload = new Uint8Array([0xaa, 0xbb]);
  const bytes = encodeRecord(2 ** 40 + 5, RecordType.Delete, payload);
  const view = new DataView(bytes.buffer);
  assertEquals(bytes.length, 19);
  assertEquals(view.getUint32(0, true), 11, "length = 9 + payload:");
  assertEquals(view.getBigUint64(8, true), 2n ** 40n + 5n);
  assertEquals(bytes[16], RecordType.Delete);
  assertEquals(bytes.subarray(17), payload);
  const covered = new Uint8Array([...bytes.subarray(0, 4), ...bytes.subarray(8)]);
  assertEquals(view.getUint32(4, true), crc32c(covered), "crc covers all but itself:");
});

Deno.test("record codec: round trip of consecutive records", () => {
  const buffer = new Uint8Array(200);
  let offset = 0;
  for (let lsn = 1; lsn <= 3; lsn++) {
    offset = encodeRecordInto(
      buffer,
      offset,
      lsn,
      RecordType.Upsert,
      new Uint8Array(lsn * 10).fill(lsn),
    );
  }
  const bytes = buffer.subarray(0, offset);
  let at = 0;
  for (let lsn = 1; lsn <= 3; lsn++) {
    const frame = readFrame(bytes, at);
    if (frame.kind !== "ok") throw new Error(`expected ok, got ${frame.kind}`);
    assertEquals([frame.lsn, frame.type, frame.payload], [
      lsn,
      1,
      new Uint8Array(lsn * 10).fill(lsn),
    ]);
    at = frame.endOffset;
  }
  assertEquals(readFrame(bytes, at), { kind: "end" });
});

Deno.test("record codec: readFrame classifies damage", () => {
  const record = encodeRecord(1, RecordType.Delete, new Uint8Array(20));
  assertEquals(readFrame(record.subarray(0, 10), 0).kind, "header_incomplete");
  assertEquals(readFrame(record.subarray(0, 30), 0).kind, "body_incomplete");
  const flipped = record.slice();
  flipped[25]! ^= 1;
  assertEquals(readFrame(flipped, 0).kind, "crc_mismatch");
  const short = record.slice();
  new DataView(short.buffer).setUint32(0, 3, true);
  assertEquals(readFrame(short, 0).kind, "length_invalid");
  const huge = record.slice();
  new DataView(huge.buffer).setUint32(0, RECORD_BYTES_MAX, true);
  assertEquals(readFrame(huge, 0).kind, "length_invalid");
});

Deno.test("record codec: refuses bad LSNs and oversized records", () => {
  assertThrows(() => encodeRecord(0, RecordType.Delete, new Uint8Array(1)), RangeError, "LSN 0");
  assertThrows(() => encodeRecord(1.5, RecordType.Delete, new Uint8Array(1)), RangeError, "LSN");
  assertThrows(
    () => encodeRecord(1, RecordType.Delete, new Uint8Array(RECORD_BYTES_MAX)),
    RangeError,
    "exceeds",
  );
});
