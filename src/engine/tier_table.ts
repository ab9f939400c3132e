/**
 * The `collection_tiers` table of the catalog database: each collection's
 * tier, pin, access statistics, and — while warm or cold — the snapshot that
 * holds its data and its point count (so a listing needs no load).
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import type { TierName } from "../storage/tier/mod.ts";
import { CorruptionError } from "../errors.ts";

/** One row. */
export interface TierRow {
  readonly collectionId: string;
  readonly tier: TierName;
  readonly pinned: boolean;
  /** ms since the epoch. */
  readonly lastAccessedAtMs: number;
  readonly accessCount: number;
  /** While warm or cold: the snapshot holding every acknowledged write. */
  readonly snapshotId: string | undefined;
  /** While warm or cold: live points in that snapshot. */
  readonly vectorCount: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS collection_tiers (
  collection_id TEXT PRIMARY KEY,
  tier TEXT NOT NULL CHECK (tier IN ('hot', 'warm', 'cold')),
  pinned INTEGER NOT NULL,
  last_accessed_at_ms INTEGER NOT NULL,
  access_count INTEGER NOT NULL,
  snapshot_id TEXT,
  vector_count INTEGER NOT NULL
) STRICT;
`;

/**
 * The table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 * import { TierTable } from "./tier_table.ts";
 * const table = new TierTable(new DatabaseSync(":memory:"));
 * table.put({ collectionId: "a", tier: "warm", pinned: false, lastAccessedAtMs: 5,
 *   accessCount: 2, snapshotId: "s", vectorCount: 7 });
 * assert.equal(table.get("a")?.tier, "warm");
 * ```
 */
export class TierTable {
  readonly #db: DatabaseSync;

  /** @param db the catalog's database; the table is created if absent */
  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(SCHEMA);
  }

  /**
   * One collection's row.
   *
   * @param collectionId the collection
   * @returns the row, or undefined when none was written (a hot collection never demoted)
   */
  get(collectionId: string): TierRow | undefined {
    const row = this.#db.prepare("SELECT * FROM collection_tiers WHERE collection_id = ?")
      .get(collectionId);
    return row === undefined ? undefined : toRow(row as Record<string, unknown>);
  }

  /**
   * Writes a row (durable when it returns).
   *
   * @param row the row
   */
  put(row: TierRow): void {
    this.#db.prepare(
      `INSERT INTO collection_tiers (collection_id, tier, pinned, last_accessed_at_ms,
         access_count, snapshot_id, vector_count) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (collection_id) DO UPDATE SET tier = excluded.tier, pinned = excluded.pinned,
         last_accessed_at_ms = excluded.last_accessed_at_ms, access_count = excluded.access_count,
         snapshot_id = excluded.snapshot_id, vector_count = excluded.vector_count`,
    ).run(
      row.collectionId,
      row.tier,
      row.pinned ? 1 : 0,
      row.lastAccessedAtMs,
      row.accessCount,
      row.snapshotId ?? null,
      row.vectorCount,
    );
  }

  /**
   * Deletes a collection's row.
   *
   * @param collectionId the collection
   */
  delete(collectionId: string): void {
    this.#db.prepare("DELETE FROM collection_tiers WHERE collection_id = ?").run(collectionId);
  }
}

function toRow(row: Record<string, unknown>): TierRow {
  const tier = row.tier;
  if (tier !== "hot" && tier !== "warm" && tier !== "cold") {
    throw new CorruptionError(`Cannot read tier row ${String(row.collection_id)}: tier ${tier}`);
  }
  return {
    collectionId: String(row.collection_id),
    tier,
    pinned: row.pinned === 1,
    lastAccessedAtMs: Number(row.last_accessed_at_ms),
    accessCount: Number(row.access_count),
    snapshotId: row.snapshot_id === null ? undefined : String(row.snapshot_id),
    vectorCount: Number(row.vector_count),
  };
}
