/**
 * The persistent dead-letter queue: object-store writes that still failed
 * after their retries (or were refused by an open breaker), kept in a SQLite
 * table of the catalog so they survive restarts, until `retryAll` replays them.
 *
 * One entry per key: a later failure for the same key replaces the operation
 * (the newest intent wins: a failed delete after a failed put leaves a delete)
 * and keeps the first failure time. Bytes of a `put` are kept in the table;
 * a `put_file` keeps only the local path, which must still exist to replay.
 *
 * @module
 */

import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { CapacityError } from "../../errors.ts";
import { runPool } from "./_pool.ts";
import { type ObjectKey, toObjectKey } from "./object_key.ts";
import type { ObjectStore } from "./object_store.ts";
import { NOOP_OBSERVER, type ObjectStoreObserver } from "./observer.ts";

/** The write operations the queue can hold. */
export type DeadLetterOperation = "put" | "put_file" | "delete";

/** One failed operation. */
export interface DeadLetterEntry {
  /** Row id. */
  readonly id: number;
  /** What was attempted. */
  readonly operation: DeadLetterOperation;
  /** The object's key. */
  readonly key: ObjectKey;
  /** The local file of a `put_file`, else undefined. */
  readonly localPath: string | undefined;
  /** Size of the payload (bytes of a `put`, the file at failure time of a `put_file`). */
  readonly sizeBytes: number;
  /** Requests made for it so far, over all tries. */
  readonly attempts: number;
  /** The last error's message. */
  readonly lastError: string;
  /** When it first failed, ms since the epoch. */
  readonly firstFailureAtMs: number;
  /** When it last failed, ms since the epoch. */
  readonly lastFailureAtMs: number;
}

/** A failure to record. */
export type DeadLetterFailure =
  & { readonly key: ObjectKey; readonly attempts: number; readonly error: unknown }
  & (
    | { readonly operation: "put"; readonly bytes: Uint8Array }
    | { readonly operation: "put_file"; readonly localPath: string; readonly sizeBytes: number }
    | { readonly operation: "delete" }
  );

/** What `retryAll` did. */
export interface DeadLetterRetryReport {
  /** Entries replayed successfully and removed. */
  readonly succeeded: number;
  /** Entries that failed again and stay. */
  readonly failed: number;
  /** Entries in the queue afterwards. */
  readonly remaining: number;
}

/** Options of the queue. */
export interface DeadLetterQueueOptions {
  /** Most entries kept; recording one more throws CapacityError. Default 100,000. */
  readonly entriesMax?: number;
  /** Entries replayed in parallel by `retryAll`. Default 4. */
  readonly retryConcurrency?: number;
  /** Receives the size after every change. */
  readonly observer?: ObjectStoreObserver;
  /** Wall clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** Defaults; candidates for `limits.ts`. */
export const DEFAULT_DEAD_LETTER_QUEUE_OPTIONS = Object.freeze({
  entriesMax: 100_000,
  retryConcurrency: 4,
});

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objectstore_dlq (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  operation TEXT NOT NULL CHECK (operation IN ('put', 'put_file', 'delete')),
  key TEXT NOT NULL UNIQUE,
  local_path TEXT,
  bytes BLOB,
  size_bytes INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  first_failure_at_ms INTEGER NOT NULL,
  last_failure_at_ms INTEGER NOT NULL
)`;

const COLUMNS = "id, operation, key, local_path, size_bytes, attempts, last_error, " +
  "first_failure_at_ms, last_failure_at_ms";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toEntry(row: Record<string, unknown>): DeadLetterEntry {
  return {
    id: Number(row.id),
    operation: row.operation as DeadLetterOperation,
    key: toObjectKey(String(row.key)),
    localPath: row.local_path === null ? undefined : String(row.local_path),
    sizeBytes: Number(row.size_bytes),
    attempts: Number(row.attempts),
    lastError: String(row.last_error),
    firstFailureAtMs: Number(row.first_failure_at_ms),
    lastFailureAtMs: Number(row.last_failure_at_ms),
  };
}

/**
 * The queue over a SQLite handle (the catalog's `db`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { DeadLetterQueue, snapshotObjectKey } from "./mod.ts";
 * const dlq = new DeadLetterQueue(new DatabaseSync(":memory:"));
 * const key = snapshotObjectKey("0192f0a8-6a8e-7c1f-9c1e-0a1b2c3d4e5f", "s1", "graph.bin");
 * dlq.record({ operation: "delete", key, attempts: 5, error: new Error("down") });
 * assert.equal(dlq.size, 1);
 * assert.equal(dlq.list()[0]!.lastError, "down");
 * ```
 */
export class DeadLetterQueue {
  readonly #db: DatabaseSync;
  readonly #entriesMax: number;
  readonly #retryConcurrency: number;
  readonly #observer: ObjectStoreObserver;
  readonly #now: () => number;

  /**
   * @param db An open SQLite database; the table `objectstore_dlq` is created if absent.
   * @param options Bounds, observer, clock.
   */
  constructor(db: DatabaseSync, options: DeadLetterQueueOptions = {}) {
    this.#db = db;
    this.#entriesMax = options.entriesMax ?? DEFAULT_DEAD_LETTER_QUEUE_OPTIONS.entriesMax;
    this.#retryConcurrency = options.retryConcurrency ??
      DEFAULT_DEAD_LETTER_QUEUE_OPTIONS.retryConcurrency;
    this.#observer = options.observer ?? NOOP_OBSERVER;
    this.#now = options.now ?? Date.now;
    db.exec(SCHEMA);
    this.#observer.onDlqSize(this.size);
  }

  /** How many entries the queue holds. */
  get size(): number {
    const row = this.#db.prepare("SELECT count(*) AS n FROM objectstore_dlq").get();
    return Number(row?.n ?? 0);
  }

  /**
   * Records a failure, replacing an earlier entry for the same key.
   *
   * @param failure What failed, with its payload.
   * @returns The entry as stored.
   * @throws CapacityError when the queue is full and the key is new.
   */
  record(failure: DeadLetterFailure): DeadLetterEntry {
    const nowMs = this.#now();
    const existing = this.#db.prepare("SELECT id FROM objectstore_dlq WHERE key = ?")
      .get(failure.key);
    if (existing === undefined && this.size >= this.#entriesMax) {
      throw new CapacityError(
        `Cannot dead-letter ${failure.operation} of "${failure.key}": ` +
          `the queue holds ${this.#entriesMax} entries`,
        { code: "dlq_full" },
      );
    }
    const payload: [string | null, Uint8Array | null, number] = failure.operation === "put"
      ? [null, failure.bytes, failure.bytes.length]
      : failure.operation === "put_file"
      ? [failure.localPath, null, failure.sizeBytes]
      : [null, null, 0];
    const values: SQLInputValue[] = [
      failure.operation,
      failure.key,
      ...payload,
      failure.attempts,
      messageOf(failure.error),
      nowMs,
      nowMs,
    ];
    this.#db.prepare(
      `INSERT INTO objectstore_dlq (operation, key, local_path, bytes, size_bytes, attempts,
         last_error, first_failure_at_ms, last_failure_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET operation = excluded.operation,
         local_path = excluded.local_path, bytes = excluded.bytes,
         size_bytes = excluded.size_bytes, attempts = attempts + excluded.attempts,
         last_error = excluded.last_error, last_failure_at_ms = excluded.last_failure_at_ms`,
    ).run(...values);
    this.#observer.onDlqSize(this.size);
    return this.#entryByKey(failure.key)!;
  }

  /**
   * The entries, oldest first.
   *
   * @param limit Most entries returned. Default all.
   * @returns The entries, without payload bytes.
   */
  list(limit = this.#entriesMax): DeadLetterEntry[] {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM objectstore_dlq ORDER BY id LIMIT ?`)
      .all(limit).map(toEntry);
  }

  /**
   * Removes the entry for a key, e.g. when a later write of it succeeded.
   *
   * @param key The key.
   * @returns True when an entry was removed.
   */
  removeKey(key: ObjectKey): boolean {
    const { changes } = this.#db.prepare("DELETE FROM objectstore_dlq WHERE key = ?").run(key);
    if (changes > 0) this.#observer.onDlqSize(this.size);
    return Number(changes) > 0;
  }

  /**
   * Replays every entry through `store` (pass the resilient store, so replays
   * go through the breaker and retries); successes are removed, failures stay
   * with their attempts and error updated. The first entry is replayed alone
   * (it probes a half-open breaker), the rest `retryConcurrency` at a time.
   *
   * @param store The store to replay into.
   * @returns How many succeeded, failed and remain.
   */
  async retryAll(store: ObjectStore): Promise<DeadLetterRetryReport> {
    const entries = this.list();
    let succeeded = 0;
    let failed = 0;
    const replay = async (entry: DeadLetterEntry) => {
      try {
        await this.#replay(store, entry);
        this.#db.prepare("DELETE FROM objectstore_dlq WHERE id = ?").run(entry.id);
        succeeded++;
      } catch (error) {
        this.#db.prepare(
          `UPDATE objectstore_dlq SET attempts = attempts + 1, last_error = ?,
             last_failure_at_ms = ? WHERE id = ?`,
        ).run(messageOf(error), this.#now(), entry.id);
        failed++;
      }
    };
    // The first entry goes alone: after an outage it is the breaker's half-open
    // probe, and the others would be refused while it is in flight.
    const [first, ...rest] = entries;
    if (first !== undefined) await replay(first);
    await runPool(rest, this.#retryConcurrency, replay);
    const remaining = this.size;
    this.#observer.onDlqSize(remaining);
    return { succeeded, failed, remaining };
  }

  async #replay(store: ObjectStore, entry: DeadLetterEntry): Promise<void> {
    switch (entry.operation) {
      case "put": {
        const row = this.#db.prepare("SELECT bytes FROM objectstore_dlq WHERE id = ?")
          .get(entry.id);
        const bytes = row?.bytes;
        if (!(bytes instanceof Uint8Array)) throw new Error("the entry's bytes are gone");
        await store.put(entry.key, bytes);
        return;
      }
      case "put_file":
        await store.putFile(entry.key, entry.localPath!);
        return;
      case "delete":
        await store.delete(entry.key);
        return;
    }
  }

  #entryByKey(key: ObjectKey): DeadLetterEntry | undefined {
    const row = this.#db.prepare(`SELECT ${COLUMNS} FROM objectstore_dlq WHERE key = ?`).get(key);
    return row === undefined ? undefined : toEntry(row as Record<string, unknown>);
  }
}
