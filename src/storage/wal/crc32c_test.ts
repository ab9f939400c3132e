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

Deno.test("crc32c slicing-by-8 agrees with the bitwise reference and composes", () => {
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
