/**
 * CRC-32C (Castagnoli, reflected polynomial `0x82F63B78`), table-driven with
 * slicing-by-8: eight 256-entry tables let the inner loop consume 8 bytes per
 * step. This is the checksum of iSCSI, ext4 metadata, etcd and LevelDB.
 *
 * @module
 */

/** The reflected Castagnoli polynomial. */
const POLYNOMIAL = 0x82f63b78;

/** Eight 256-entry tables, table `k` at offset `k * 256`. */
const TABLES: Uint32Array = buildTables();

function buildTables(): Uint32Array {
  const tables = new Uint32Array(8 * 256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    tables[byte] = crc >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    for (let slice = 1; slice < 8; slice++) {
      const previous = tables[(slice - 1) * 256 + byte]!;
      tables[slice * 256 + byte] = (previous >>> 8) ^ tables[previous & 0xff]!;
    }
  }
  return tables;
}

/**
 * Compute the CRC-32C of `bytes[start, end)`, continuing from a previous CRC so that
 * `crc32c(b, crc32c(a)) === crc32c(a ++ b)`.
 *
 * @param bytes The data.
 * @param previous The CRC of the data before `bytes` (0 to start a new checksum).
 * @param start First byte index (default 0).
 * @param end One past the last byte index (default `bytes.length`).
 * @returns The CRC-32C as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * const text = new TextEncoder().encode("123456789");
 * assertEquals(crc32c(text), 0xe3069283);
 * assertEquals(crc32c(text.subarray(4), crc32c(text.subarray(0, 4))), 0xe3069283);
 * ```
 */
export function crc32c(
  bytes: Uint8Array,
  previous = 0,
  start = 0,
  end: number = bytes.length,
): number {
  const t = TABLES;
  let crc = ~previous >>> 0;
  let index = start;
  const wordsEnd = start + ((end - start) & ~7);
  while (index < wordsEnd) {
    const low = (crc ^ (bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) |
      (bytes[index + 3]! << 24))) >>> 0;
    crc = t[1792 + (low & 0xff)]! ^ t[1536 + ((low >>> 8) & 0xff)]! ^
      t[1280 + ((low >>> 16) & 0xff)]! ^ t[1024 + (low >>> 24)]! ^
      t[768 + bytes[index + 4]!]! ^ t[512 + bytes[index + 5]!]! ^
      t[256 + bytes[index + 6]!]! ^ t[bytes[index + 7]!]!;
    index += 8;
  }
  while (index < end) {
    crc = (crc >>> 8) ^ t[(crc ^ bytes[index]!) & 0xff]!;
    index += 1;
  }
  return ~crc >>> 0;
}
