/**
 * The WAL's record types. The numeric codes are written to disk: they are
 * stable forever; a new type gets a new code, a retired code is never reused.
 * Code 0 is never valid, so a zero-filled region never reads as a record.
 *
 * @module
 */

/**
 * The type byte of a WAL record.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * assertEquals(RecordType.Upsert, 1);
 * assertEquals(isRecordType(2), true);
 * assertEquals(isRecordType(0), false);
 * ```
 */
export enum RecordType {
  /** One or many points written (insert or replace). */
  Upsert = 1,
  /** One or many point ids deleted. */
  Delete = 2,
  /** A marker: a snapshot now covers every record up to an LSN. */
  Checkpoint = 3,
}

/**
 * Tell whether a type byte read from disk is a known {@link RecordType}.
 *
 * @param code The byte.
 * @returns True for a known code.
 */
export function isRecordType(code: number): code is RecordType {
  return code === RecordType.Upsert || code === RecordType.Delete ||
    code === RecordType.Checkpoint;
}

/**
 * The name of a record type for messages, e.g. `UPSERT`.
 *
 * @param type The record type.
 * @returns Its upper-case name, or `type <code>` for an unknown code.
 */
export function recordTypeName(type: RecordType): string {
  return RecordType[type]?.toUpperCase() ?? `type ${type}`;
}
