/**
 * Test fixtures: hand-built WAL segments in a MemoryFileIO (private to the WAL tests).
 *
 * @module
 */

import { joinPath } from "../file_io.ts";
import { MemoryFileIO } from "../memory_file_io.ts";
import { encodePayload, type WalEntry } from "./payload_codec.ts";
import { encodeRecord } from "./record_codec.ts";
import { RecordType } from "./record_type.ts";
import { segmentFileName } from "./segment_name.ts";

/** The WAL directory the fixtures use. */
export const WAL_DIR = "/data/collections/c1/wal";

/**
 * The entry fixtures write for an LSN: a one-id DELETE whose id names the LSN.
 *
 * @param lsn The LSN.
 * @returns The entry.
 */
export function entryFor(lsn: number): WalEntry {
  return { type: RecordType.Delete, ids: [`id-${lsn}`] };
}

/**
 * Encode the records `lsns` back to back, each holding {@link entryFor} its LSN.
 *
 * @param lsns The LSNs, in order.
 * @returns The bytes and each record's start offset.
 */
export function recordsBytes(lsns: readonly number[]): { bytes: Uint8Array; offsets: number[] } {
  const records = lsns.map((lsn) =>
    encodeRecord(lsn, RecordType.Delete, encodePayload(entryFor(lsn)))
  );
  const bytes = new Uint8Array(records.reduce((total, record) => total + record.length, 0));
  const offsets: number[] = [];
  let at = 0;
  for (const record of records) {
    offsets.push(at);
    bytes.set(record, at);
    at += record.length;
  }
  return { bytes, offsets };
}

/**
 * A MemoryFileIO holding durable segments `<firstLsn>.wal` with the given contents.
 *
 * @param segments First LSN and content of each segment.
 * @returns The store.
 */
export async function ioWithSegments(
  segments: readonly { firstLsn: number; bytes: Uint8Array }[],
): Promise<MemoryFileIO> {
  const io = new MemoryFileIO({ seed: 1 });
  await io.mkdir(WAL_DIR);
  for (const dir of ["/", "/data", "/data/collections", "/data/collections/c1"]) {
    await io.syncDir(dir);
  }
  for (const segment of segments) {
    const file = await io.open(joinPath(WAL_DIR, segmentFileName(segment.firstLsn)), {
      mode: "createNew",
    });
    await file.write(segment.bytes);
    await file.syncData();
    await file.close();
  }
  await io.syncDir(WAL_DIR);
  return io;
}

/**
 * The path of the segment starting at `firstLsn` in {@link WAL_DIR}.
 *
 * @param firstLsn The segment's first LSN.
 * @returns Its path.
 */
export function segmentPath(firstLsn: number): string {
  return joinPath(WAL_DIR, segmentFileName(firstLsn));
}
