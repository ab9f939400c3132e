import { assertEquals as strictEqual } from "./_test_support.ts";
import { crc32c } from "./crc32c.ts";
import { testSeed } from "./_test_support.ts";
import { SeededRandom } from "../memory_file_io.ts";

/** Bit-by-bit reference, independent of the tables. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

const text = (value: string) => new TextEncoder().encode(value);

Deno.test("crc32c matches the published test vectors", () => {
  strictEqual(crc32c(new Uint8Array(0)), 0);
  strictEqual(crc32c(text("a")), 0xc1d04330);
  strictEqual(crc32c(text("123456789")), 0xe3069283);
  strictEqual(crc32c(text("The quick brown fox jumps over the lazy dog")), 0x22620404);
  // RFC 3720 (iSCSI), appendix B.4.
  strictEqual(crc32c(new Uint8Array(32)), 0x8a9136aa);
  strictEqual(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  strictEqual(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  strictEqual(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

Deno.test("crc32c agrees with the bitwise reference and composes", () => {
  const random = new SeededRandom(testSeed("crc32c random"));
  for (let round = 0; round < 200; round++) {
    const bytes = Uint8Array.from({ length: random.int(300) }, () => random.int(256));
    const expected = crc32cBitwise(bytes);
    strictEqual(crc32c(bytes), expected);
    const cut = random.int(bytes.length + 1);
    strictEqual(crc32c(bytes.subarray(cut), crc32c(bytes.subarray(0, cut))), expected);
    strictEqual(crc32c(bytes, crc32c(bytes, 0, 0, cut), cut), expected);
  }
});

Deno.test("crc32c agrees with the bitwise reference at every alignment and length", () => {
  const random = new SeededRandom(testSeed("crc32c alignment"));
  const backing = Uint8Array.from({ length: 1200 }, () => random.int(256));
  for (let shift = 0; shift < 8; shift++) {
    for (const length of [0, 1, 3, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 559, 1000]) {
      const bytes = backing.subarray(shift, shift + length);
      strictEqual(crc32c(bytes), crc32cBitwise(bytes), `shift ${shift}, length ${length}`);
      strictEqual(crc32c(backing, 0, shift, shift + length), crc32cBitwise(bytes));
    }
  }
});

Deno.test("crc32c agrees with the reference on resizable, shared and alternating buffers", () => {
  const random = new SeededRandom(testSeed("crc32c buffers"));
  const content = Uint8Array.from({ length: 700 }, () => random.int(256));
  const resizable = new ArrayBuffer(700, { maxByteLength: 1400 });
  const shared = new SharedArrayBuffer(703);
  const plain = new Uint8Array(701);
  for (const buffer of [new Uint8Array(resizable), new Uint8Array(shared), plain]) {
    buffer.set(content);
  }
  const views = [new Uint8Array(resizable), new Uint8Array(shared, 3, 700), plain.subarray(1)];
  for (let round = 0; round < 50; round++) {
    const view = views[random.int(views.length)]!;
    const start = random.int(300);
    const end = start + random.int(400);
    strictEqual(crc32c(view, 0, start, end), crc32cBitwise(view.subarray(start, end)));
    view[random.int(700)] = random.int(256); // the checksum follows the current content
  }
  resizable.resize(100);
  const shrunk = new Uint8Array(resizable);
  strictEqual(crc32c(shrunk), crc32cBitwise(shrunk));
});
