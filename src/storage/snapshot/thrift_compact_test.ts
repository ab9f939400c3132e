import assert from "node:assert/strict";
import { CorruptionError } from "../../errors.ts";
import { readThriftStruct, ThriftWriter } from "./thrift_compact.ts";

Deno.test("thrift compact: every field kind written is read back", () => {
  const bytes = new ThriftWriter()
    .i32(1, -1)
    .i64(2, 2 ** 40)
    .i64(3, -123456789n)
    .i8(4, -2)
    .bool(5, true)
    .bool(6, false)
    .string(7, "ñ")
    .i32(40, 7) // a field id delta > 15: long header
    .i32(20, 8) // and a negative delta
    .i32List(41, Array.from({ length: 20 }, (_, i) => i - 10)) // list of ≥ 15: long header
    .stringList(42, ["a", "bc"])
    .structList(43, [1, 2], (item, n) => item.i32(1, n).struct(2, (inner) => inner.i32(16, n)))
    .struct(44, () => {})
    .finish();
  const { value, end } = readThriftStruct(bytes, 0);
  assert.equal(end, bytes.byteLength);
  assert.equal(value.get(1), -1);
  assert.equal(value.get(2), 2 ** 40);
  assert.equal(value.get(3), -123456789);
  assert.equal(value.get(4), -2);
  assert.equal(value.get(5), true);
  assert.equal(value.get(6), false);
  assert.deepEqual(value.get(7), new TextEncoder().encode("ñ"));
  assert.equal(value.get(40), 7);
  assert.equal(value.get(20), 8);
  assert.deepEqual(value.get(41), Array.from({ length: 20 }, (_, i) => i - 10));
  assert.deepEqual(value.get(42), [new Uint8Array([97]), new Uint8Array([98, 99])]);
  const items = value.get(43) as Map<number, unknown>[];
  assert.deepEqual(items.map((item) => item.get(1)), [1, 2]);
  assert.deepEqual(items.map((item) => (item.get(2) as Map<number, unknown>).get(16)), [1, 2]);
  assert.deepEqual(value.get(44), new Map());
});

Deno.test("thrift compact: a struct cut anywhere, or with a binary past the end, is refused", () => {
  const bytes = new ThriftWriter().i32(1, 300).string(2, "abcdef").i32List(3, [1, 2]).finish();
  for (let cut = 0; cut < bytes.byteLength; cut++) {
    assert.throws(() => readThriftStruct(bytes.subarray(0, cut), 0), CorruptionError, `cut ${cut}`);
  }
  const long = new Uint8Array([0x18, 0x7f, 0x61, 0x00]); // binary field of 127 bytes, 1 present
  assert.throws(() => readThriftStruct(long, 0), /ends early/);
});
