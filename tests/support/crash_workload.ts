/**
 * The workload and the oracle of the crash test (`tests/crash_test.ts`):
 * seeded writers that upsert and delete points over HTTP and record every
 * operation with its outcome (acknowledged with an LSN, or unknown because it
 * was in flight at the kill), and the model that says which states each point
 * may be in after recovery.
 *
 * @module
 */

import { randomVector } from "./seeded_random.ts";

/** A point id as the API takes it: a string or a non-negative integer. */
export type PointId = string | number;

/** A point's content: the vector as the server stores it (normalized for cosine) and its metadata. */
export interface PointState {
  readonly vector: Float32Array;
  /** `null` when the point has none. */
  readonly metadata: Record<string, unknown> | null;
}

/** One write of the workload. */
export type WriteOp =
  | {
    readonly kind: "upsert";
    readonly writer: number;
    /** The JSON points sent, and for each the state the server must store. */
    readonly points: readonly { readonly id: PointId; readonly state: PointState }[];
    readonly single: boolean;
  }
  | { readonly kind: "delete"; readonly writer: number; readonly id: PointId };

/** How a write ended, as far as the client knows. */
export type Outcome =
  | { readonly kind: "acked"; readonly lsn: number }
  /** A delete answered 404: it wrote nothing. */
  | { readonly kind: "absent" }
  /** In flight at the kill: it may or may not be durable. */
  | { readonly kind: "unknown" };

/** An operation and its outcome, in the order the writer issued it. */
export interface RecordedOp {
  readonly op: WriteOp;
  readonly outcome: Outcome;
  /** `performance.now()` when the request was sent. */
  readonly sentAtMs: number;
  /** `performance.now()` when the answer arrived; undefined when in flight at the kill. */
  readonly answeredAtMs?: number;
}

/** A point as GET returned it; `null` for 404. */
export type FoundPoint = { readonly vector: number[]; readonly metadata: unknown } | null;

/** What the workload looks like for one trial. */
export interface WorkloadShape {
  readonly dimension: number;
  readonly metric: "cosine" | "l2" | "dot";
  /** Ids drawn from; fewer ids means more replacements. */
  readonly ids: readonly PointId[];
}

/**
 * The pool of point ids of a trial: string ids (some non-ASCII, none all
 * digits, so path lookups are unambiguous) and integer ids.
 *
 * @param random the trial's generator
 * @param count how many ids
 * @returns the ids
 */
export function pointIdPool(random: () => number, count: number): PointId[] {
  const ids: PointId[] = [];
  for (let n = 0; n < count; n++) {
    const roll = random();
    if (roll < 0.4) ids.push(n * 7 + 1);
    else if (roll < 0.55) ids.push(`ü-ñ/${n} 🚀`);
    else ids.push(`p-${n}`);
  }
  return ids;
}

const TAGS = ["a", "b", "ß", "日本", "emoji 🚀", 'quote " and \\ slash', ""];

function randomMetadata(
  random: () => number,
  writer: number,
  seq: number,
): Record<string, unknown> | null {
  const roll = random();
  if (roll < 0.15) return null;
  if (roll < 0.2) return {};
  const metadata: Record<string, unknown> = {
    writer,
    seq,
    tag: TAGS[Math.floor(random() * TAGS.length)]!,
    score: random() * 1000 - 500,
    flags: [random() < 0.5, null, Math.floor(random() * 100)],
    nested: { depth: { value: Math.floor(random() * 1e9) } },
  };
  // Some records are large, so a kill is likelier to tear one across pages.
  if (random() < 0.05) metadata.blob = "x".repeat(2_000 + Math.floor(random() * 30_000));
  return metadata;
}

/**
 * Generates one write.
 *
 * @param random the writer's generator
 * @param shape dimension, metric, id pool
 * @param normalize the server's normalization (used for cosine)
 * @param writer the writer's number (goes into metadata)
 * @param seq the writer's sequence number (goes into metadata)
 * @returns the operation and the JSON body to send (upserts only)
 */
export function nextOp(
  random: () => number,
  shape: WorkloadShape,
  normalize: (vector: Float32Array) => Float32Array,
  writer: number,
  seq: number,
): { op: WriteOp; body?: unknown } {
  const pick = () => shape.ids[Math.floor(random() * shape.ids.length)]!;
  const roll = random();
  if (roll < 0.15) return { op: { kind: "delete", writer, id: pick() } };
  const single = roll < 0.6;
  const size = single ? 1 : 2 + Math.floor(random() * 31);
  const chosen = new Set<PointId>();
  while (chosen.size < Math.min(size, shape.ids.length)) chosen.add(pick());
  const points: { id: PointId; state: PointState }[] = [];
  const json: unknown[] = [];
  for (const id of chosen) {
    const vector = randomVector(random, shape.dimension);
    const metadata = randomMetadata(random, writer, seq);
    const stored = shape.metric === "cosine" ? normalize(vector) : vector;
    points.push({ id, state: { vector: stored, metadata } });
    const point: Record<string, unknown> = { id, vector: Array.from(vector) };
    // Leave metadata out, send it as null, or send the object.
    if (metadata !== null) point.metadata = metadata;
    else if (random() < 0.5) point.metadata = null;
    json.push(point);
  }
  const body = single ? json[0] : { vectors: json };
  return { op: { kind: "upsert", writer, points, single }, body };
}

/** What may be found for one id after recovery. */
export interface Expectation {
  /** The state after every acknowledged write, applied in LSN order (`null`: absent). */
  readonly acked: PointState | null;
  /** Further states left by writes in flight at the kill (`null`: an in-flight delete). */
  readonly inFlight: readonly (PointState | null)[];
}

/**
 * The states each id may be in after recovery. Acknowledged writes are
 * applied in LSN order (the engine applies them in that order, whatever order
 * their answers arrived in); a write in flight at the kill may or may not
 * have become durable, so its state is allowed as well.
 *
 * @param recorded every writer's operations
 * @returns per id, what recovery may leave
 * @throws {Error} when two acknowledged writes report the same LSN
 */
export function expectations(recorded: readonly RecordedOp[]): Map<PointId, Expectation> {
  const acked = recorded
    .filter((r) => r.outcome.kind === "acked")
    .map((r) => ({ op: r.op, lsn: (r.outcome as { lsn: number }).lsn }))
    .sort((a, b) => a.lsn - b.lsn);
  for (let i = 1; i < acked.length; i++) {
    if (acked[i]!.lsn === acked[i - 1]!.lsn) {
      throw new Error(`Two acknowledged writes share LSN ${acked[i]!.lsn}`);
    }
  }
  const state = new Map<PointId, PointState | null>();
  for (const { op } of acked) {
    if (op.kind === "delete") state.set(op.id, null);
    else for (const point of op.points) state.set(point.id, point.state);
  }
  const inFlight = new Map<PointId, (PointState | null)[]>();
  const add = (id: PointId, value: PointState | null) => {
    const list = inFlight.get(id) ?? [];
    list.push(value);
    inFlight.set(id, list);
  };
  for (const { op, outcome } of recorded) {
    if (outcome.kind !== "unknown") continue;
    if (op.kind === "delete") add(op.id, null);
    else for (const point of op.points) add(point.id, point.state);
  }
  const result = new Map<PointId, Expectation>();
  for (const id of new Set([...state.keys(), ...inFlight.keys()])) {
    result.set(id, { acked: state.get(id) ?? null, inFlight: inFlight.get(id) ?? [] });
  }
  return result;
}

/**
 * A batch is one WAL record, so a batch in flight at the kill is all or
 * nothing: when recovery shows some of its points, each other point must show
 * it too, unless a write that may have come after the batch (any write on that
 * id not answered before the batch was sent) replaced it.
 *
 * @param recorded every writer's operations
 * @param found every id's point after recovery
 * @returns one message per torn batch
 */
export function tornBatches(
  recorded: readonly RecordedOp[],
  found: ReadonlyMap<PointId, FoundPoint>,
): string[] {
  const problems: string[] = [];
  for (const batch of recorded) {
    const { op } = batch;
    if (batch.outcome.kind !== "unknown" || op.kind !== "upsert" || op.points.length < 2) continue;
    const shown = op.points.filter((p) => matches(p.state, found.get(p.id) ?? null));
    if (shown.length === 0 || shown.length === op.points.length) continue;
    const mayFollow = (id: PointId) =>
      recorded.some((other) =>
        other !== batch && other.outcome.kind !== "absent" && touches(other.op, id) &&
        !(other.answeredAtMs !== undefined && other.answeredAtMs < batch.sentAtMs)
      );
    const missing = op.points.filter((p) => !shown.includes(p) && !mayFollow(p.id));
    if (missing.length === 0) continue;
    problems.push(
      `batch of writer ${op.writer} in flight is torn: ${shown.length} of ${op.points.length} ` +
        `points recovered, not ${missing.map((p) => JSON.stringify(p.id)).join(", ")}`,
    );
  }
  return problems;
}

function touches(op: WriteOp, id: PointId): boolean {
  return op.kind === "delete" ? op.id === id : op.points.some((p) => p.id === id);
}

/**
 * Whether a vector read back equals the stored one bit for bit once each
 * number is rounded to float32 (so a server may print the shortest float32
 * or the exact float64 form), ±0 aside: JSON writes −0 as 0.
 *
 * @param expected the float32 vector the server must hold
 * @param actual the JSON numbers read back
 * @returns true when equal
 */
export function sameVector(expected: Float32Array, actual: readonly number[]): boolean {
  if (actual.length !== expected.length) return false;
  const got = Float32Array.from(actual);
  const a = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const b = new Uint32Array(got.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(expected[i] === 0 && got[i] === 0)) return false;
  }
  return true;
}

/**
 * Whether a point read back matches a state.
 *
 * @param expected the state (`null`: absent)
 * @param found what GET returned (`null`: 404)
 * @returns true when equal
 */
export function matches(expected: PointState | null, found: FoundPoint): boolean {
  if (expected === null || found === null) return expected === found;
  return sameVector(expected.vector, found.vector) &&
    JSON.stringify(canonical(expected.metadata)) === JSON.stringify(canonical(found.metadata));
}

/** Key-sorted copy, so two JSON values compare by content. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    );
    return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

/**
 * A short description of a state, for failure messages.
 *
 * @param state the state
 * @returns e.g. `absent` or `vector[0..2]=0.1,0.2 metadata={"seq":3}`
 */
export function describe(
  state: PointState | { vector: number[]; metadata: unknown } | null,
): string {
  if (state === null) return "absent";
  const head = Array.from(state.vector.slice(0, 3)).join(",");
  const meta = JSON.stringify(state.metadata) ?? "undefined";
  return `vector[0..2]=${head} metadata=${meta.length > 120 ? meta.slice(0, 120) + "…" : meta}`;
}
