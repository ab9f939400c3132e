/**
 * WAL recovery as a decision table. Recovery reads each segment frame by
 * frame; at every offset it gathers {@link FrameFacts} and asks
 * {@link decideRecovery} what to do. The first matching row of
 * {@link RECOVERY_TABLE} wins; `undefined` in a row means "any value".
 *
 * "At tail" means: the frame is in the last segment AND no valid record
 * (checksum ok, a later LSN) follows it in that segment. Only a crash while
 * appending can produce such bytes, because a segment is fsync'd before the
 * next one is created; anything else is damage to acknowledged data.
 *
 * @module
 */

/** The facts recovery gathers about the bytes at one offset of a segment. */
export interface FrameFacts {
  /** At least one byte is left in the segment. */
  readonly bytesLeft: boolean;
  /** At least a whole 17-byte header is left. */
  readonly headerComplete: boolean;
  /** The length field is within the format's bounds. */
  readonly lengthValid: boolean;
  /** The segment holds every byte the length field announces. */
  readonly bodyComplete: boolean;
  /** The checksum matches. */
  readonly crcOk: boolean;
  /** The LSN is the one expected (previous + 1, or the segment's first LSN). */
  readonly lsnContiguous: boolean;
  /** The type byte is a known record type. */
  readonly typeKnown: boolean;
  /** In the last segment, with no valid record after it. */
  readonly atTail: boolean;
}

/** What recovery does at an offset. */
export enum RecoveryAction {
  /** The record is valid: keep it and go on after it. */
  Keep = "keep",
  /** The segment ends cleanly here: go on with the next segment. */
  EndOfSegment = "end_of_segment",
  /** A torn write at the tail: cut the segment here and stop. */
  TruncateTail = "truncate_tail",
  /** Damage before the tail: refuse with a `CorruptionError` naming the file and offset. */
  Refuse = "refuse",
}

/** One row of the decision table. */
export interface RecoveryRow {
  /** 1-based row number, as in `docs/formats/wal.md`. */
  readonly row: number;
  /** The facts this row requires; a missing fact matches any value. */
  readonly when: Partial<FrameFacts>;
  /** What to do. */
  readonly action: RecoveryAction;
  /** Why, for messages and docs. */
  readonly reason: string;
}

const { Keep, EndOfSegment, TruncateTail, Refuse } = RecoveryAction;

/** The decision table, in order; the first matching row wins and the last row matches anything. */
export const RECOVERY_TABLE: readonly RecoveryRow[] = [
  { row: 1, when: { bytesLeft: false }, action: EndOfSegment, reason: "segment ends cleanly" },
  {
    row: 2,
    when: { headerComplete: false, atTail: true },
    action: TruncateTail,
    reason: "torn header at the tail",
  },
  {
    row: 3,
    when: { headerComplete: false },
    action: Refuse,
    reason: "incomplete header before the tail",
  },
  {
    row: 4,
    when: { lengthValid: false, atTail: true },
    action: TruncateTail,
    reason: "garbage length at the tail",
  },
  {
    row: 5,
    when: { lengthValid: false },
    action: Refuse,
    reason: "invalid length before the tail",
  },
  {
    row: 6,
    when: { bodyComplete: false, atTail: true },
    action: TruncateTail,
    reason: "torn body at the tail",
  },
  {
    row: 7,
    when: { bodyComplete: false },
    action: Refuse,
    reason: "incomplete body before the tail",
  },
  {
    row: 8,
    when: { crcOk: false, atTail: true },
    action: TruncateTail,
    reason: "torn record at the tail",
  },
  { row: 9, when: { crcOk: false }, action: Refuse, reason: "checksum mismatch before the tail" },
  {
    row: 10,
    when: { lsnContiguous: false },
    action: Refuse,
    reason: "valid record with an unexpected LSN (lost, duplicated or reordered records)",
  },
  {
    row: 11,
    when: { typeKnown: false },
    action: Refuse,
    reason: "valid record of an unknown type (written by a newer version?)",
  },
  { row: 12, when: {}, action: Keep, reason: "valid record" },
];

/** The facts as a bit mask, 0..255: the index of {@link ROW_BY_FACTS}. */
function factsMask(facts: FrameFacts): number {
  return (facts.bytesLeft ? 1 : 0) | (facts.headerComplete ? 2 : 0) |
    (facts.lengthValid ? 4 : 0) | (facts.bodyComplete ? 8 : 0) | (facts.crcOk ? 16 : 0) |
    (facts.lsnContiguous ? 32 : 0) | (facts.typeKnown ? 64 : 0) | (facts.atTail ? 128 : 0);
}

/** Every fact, to enumerate their combinations. */
const FACT_KEYS: readonly (keyof FrameFacts)[] = [
  "bytesLeft",
  "headerComplete",
  "lengthValid",
  "bodyComplete",
  "crcOk",
  "lsnContiguous",
  "typeKnown",
  "atTail",
];

/** The first matching row of {@link RECOVERY_TABLE}, matched key by key. */
function matchRow(facts: FrameFacts): RecoveryRow | undefined {
  return RECOVERY_TABLE.find((row) =>
    (Object.keys(row.when) as (keyof FrameFacts)[]).every((key) => row.when[key] === facts[key])
  );
}

/**
 * The table evaluated once for each of the 2^8 combinations of facts, indexed by
 * {@link factsMask}: recovery then pays one lookup per frame instead of matching rows key by key
 * (`Object.keys` and megamorphic loads took about a tenth of replay time). The table stays the
 * only definition.
 */
const ROW_BY_FACTS: readonly RecoveryRow[] = buildRowByFacts();

function buildRowByFacts(): RecoveryRow[] {
  const rows: RecoveryRow[] = [];
  for (let combination = 0; combination < 1 << FACT_KEYS.length; combination++) {
    const facts = Object.fromEntries(
      FACT_KEYS.map((key, bit) => [key, (combination & (1 << bit)) !== 0]),
    ) as unknown as FrameFacts;
    const row = matchRow(facts);
    // Unreachable: the last row has no condition.
    if (row === undefined) throw new Error("Cannot decide WAL recovery: the table has no default");
    rows[factsMask(facts)] = row;
  }
  if (rows.length !== 1 << FACT_KEYS.length || rows.includes(undefined as never)) {
    throw new Error("Cannot index the WAL recovery table: facts mask is not one-to-one");
  }
  return rows;
}

/**
 * Find the row of {@link RECOVERY_TABLE} that applies to `facts`.
 *
 * @param facts What recovery knows about the bytes at the current offset.
 * @returns The first matching row.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * const intact = {
 *   bytesLeft: true, headerComplete: true, lengthValid: true, bodyComplete: true,
 *   crcOk: true, lsnContiguous: true, typeKnown: true, atTail: false,
 * };
 * assertEquals(decideRecovery(intact).action, RecoveryAction.Keep);
 * assertEquals(decideRecovery({ ...intact, crcOk: false }).action, RecoveryAction.Refuse);
 * assertEquals(decideRecovery({ ...intact, crcOk: false, atTail: true }).row, 8);
 * ```
 */
export function decideRecovery(facts: FrameFacts): RecoveryRow {
  return ROW_BY_FACTS[factsMask(facts)]!;
}
