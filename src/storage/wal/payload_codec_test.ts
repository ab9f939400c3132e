import assert from "node:assert/strict";
import { CorruptionError } from "../../errors.ts";
import { SeededRandom } from "../memory_file_io.ts";
import { decodePayload, encodePayload, type WalEntry, type WalPoint } from "./payload_codec.ts";
import { RecordType } from "./record_type.ts";
import { assertEquals, assertThrows, testSeed } from "./_test_support.ts";

const roundTrip = (entry: WalEntry) => decodePayload(entry.type, encodePayload(entry));

Deno.test("payload codec: UPSERT round trip with string/integer ids and optional metadata", () => {
  const points: WalPoint[] = [
    { id: "a", vector: new Float32Array([1, -2.5, Number.MIN_VALUE]) },
    { id: 0, vector: new Float32Array([0, 0, 0]), metadata: '{"k":"ü"}' },
    { id: Number.MAX_SAFE_INTEGER, vector: new Float32Array([1, 2, 3]), metadata: "" },
    { id: "é".repeat(128), vector: new Float32Array([Infinity, -0, 3]) },
  ];
  assertEquals(roundTrip({ type: RecordType.Upsert, points }), { type: RecordType.Upsert, points });
});

Deno.test("payload codec: DELETE and CHECKPOINT round trips", () => {
  const del: WalEntry = { type: RecordType.Delete, ids: ["x", 5, "日本", 2 ** 40] };
  assertEquals(roundTrip(del), del);
  const checkpoint: WalEntry = { type: RecordType.Checkpoint, snapshotLsn: 123456789012 };
  assertEquals(roundTrip(checkpoint), checkpoint);
});

Deno.test("payload codec: random UPSERT batches round trip", () => {
  const random = new SeededRandom(testSeed("payload random"));
  for (let round = 0; round < 100; round++) {
    const dimension = 1 + random.int(64);
    const points: WalPoint[] = Array.from({ length: 1 + random.int(8) }, (_, index) => {
      const vector = Float32Array.from({ length: dimension }, () => random.next() * 2 - 1);
      const id = random.int(2) === 0 ? random.int(1e9) : `p-${round}-${index}`;
      return random.int(2) === 0 ? { id, vector } : { id, vector, metadata: `{"i":${index}}` };
    });
    assertEquals(roundTrip({ type: RecordType.Upsert, points }), {
      type: RecordType.Upsert,
      points,
    });
  }
});

Deno.test("payload codec: encoding rejects invalid entries", () => {
  const vector = new Float32Array([1, 2]);
  const upsert = (points: WalPoint[]) => () => encodePayload({ type: RecordType.Upsert, points });
  assertThrows(upsert([]), RangeError, "at least one point");
  assertThrows(
    upsert([{ id: "a", vector }, { id: "b", vector: new Float32Array(3) }]),
    RangeError,
    "dimension is 3",
  );
  assertThrows(upsert([{ id: "", vector }]), RangeError, "0 bytes");
  assertThrows(upsert([{ id: "x".repeat(257), vector }]), RangeError, "257 bytes");
  assertThrows(upsert([{ id: -1, vector }]), RangeError, "non-negative");
  assertThrows(upsert([{ id: 1.5, vector }]), RangeError, "safe integer");
  assertThrows(upsert([{ id: 2 ** 53, vector }]), RangeError, "safe integer");
  assertThrows(
    upsert([{ id: true as unknown as string, vector }]),
    TypeError,
    "string or a number",
  );
  assertThrows(
    upsert([{ id: "a", vector, metadata: {} as unknown as string }]),
    TypeError,
    "JSON text",
  );
  assertThrows(() => encodePayload({ type: RecordType.Delete, ids: [] }), RangeError, "no id");
  assertThrows(() => encodePayload({ type: RecordType.Checkpoint, snapshotLsn: -1 }), RangeError);
});

Deno.test("payload codec: decoding rejects malformed bytes with CorruptionError", () => {
  const good = encodePayload({ type: RecordType.Delete, ids: ["ab"] });
  assertThrows(
    () => decodePayload(RecordType.Delete, good.subarray(0, 6)),
    CorruptionError,
    "needs",
  );
  assertThrows(
    () => decodePayload(RecordType.Delete, new Uint8Array([...good, 0])),
    CorruptionError,
    "trailing",
  );
  const badFlags = good.slice();
  badFlags[4] = 0x80;
  assertThrows(() => decodePayload(RecordType.Delete, badFlags), CorruptionError, "flags");
  const badUtf8 = good.slice();
  badUtf8[7] = 0xff;
  assertThrows(() => decodePayload(RecordType.Delete, badUtf8), CorruptionError, "UTF-8");
  const unsafe = encodePayload({ type: RecordType.Checkpoint, snapshotLsn: 1 });
  unsafe[7] = 0xff;
  assertThrows(() => decodePayload(RecordType.Checkpoint, unsafe), CorruptionError, "safe integer");
  assertThrows(() => decodePayload(99 as RecordType, good), CorruptionError, "unknown record type");
});

Deno.test("payload codec: decoded vectors are independent copies, small and large", () => {
  for (const dimension of [3, 128, 2048, 2049, 4096]) {
    const points: WalPoint[] = Array.from({ length: 40 }, (_, index) => ({
      id: index,
      vector: Float32Array.from({ length: dimension }, (_, j) => index * 10_000 + j),
    }));
    const payload = encodePayload({ type: RecordType.Upsert, points });
    const first = decodePayload(RecordType.Upsert, payload);
    const second = decodePayload(RecordType.Upsert, payload);
    payload.fill(0);
    assert.ok(first.type === RecordType.Upsert && second.type === RecordType.Upsert);
    for (const decoded of [...first.points, ...second.points]) decoded.vector.fill(-1, 0, 1);
    for (const [index, decoded] of first.points.entries()) {
      assert.equal(decoded.vector.length, dimension);
      assert.deepEqual([...decoded.vector.subarray(1)], [...points[index]!.vector.subarray(1)]);
    }
  }
});

Deno.test("payload codec: short and long text, ASCII or not, decode or fail as UTF-8 says", () => {
  for (const text of ["{}", "x".repeat(32), "x".repeat(33), '{"k":"ü"}', "ü".repeat(40)]) {
    const entry: WalEntry = {
      type: RecordType.Upsert,
      points: [{ id: text, vector: new Float32Array([1]), metadata: text }],
    };
    assert.deepEqual(roundTrip(entry), entry);
  }
  for (const length of [3, 40]) {
    const payload = encodePayload({ type: RecordType.Delete, ids: ["a".repeat(length)] });
    payload[payload.length - 1] = 0x80; // a lone continuation byte
    assert.throws(() => decodePayload(RecordType.Delete, payload), {
      name: "CorruptionError",
      message: /invalid UTF-8/,
    });
  }
});
