/**
 * The catalog: one SQLite database (`<data_dir>/catalog.sqlite`, via
 * `node:sqlite`) holding every collection's definition and lifecycle state.
 * SQLite commits are durable (`journal_mode=WAL`, `synchronous=FULL`), so a
 * row's state is the source of truth for the crash-safe create/drop protocol
 * described in `docs/ARCHITECTURE.md` ("Engine").
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import type { Metric } from "../kernel/mod.ts";
import { isMetric } from "../kernel/mod.ts";
import { ConflictError, CorruptionError } from "../errors.ts";

/** Lifecycle state of a catalog row; only `ready` collections are served. */
export type CollectionState = "creating" | "ready" | "dropping";

/** One collection as the catalog stores it. */
export interface CollectionRow {
  readonly id: string;
  readonly name: string;
  readonly dimension: number;
  readonly metric: Metric;
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly state: CollectionState;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS collections (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  dimension INTEGER NOT NULL,
  metric TEXT NOT NULL,
  m INTEGER NOT NULL,
  ef_construction INTEGER NOT NULL,
  ef_search INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('creating', 'ready', 'dropping'))
) STRICT;
`;

const STATES: readonly string[] = ["creating", "ready", "dropping"];

/**
 * The collections table of the catalog database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Catalog } from "./catalog.ts";
 * const catalog = Catalog.open(":memory:");
 * catalog.insert({
 *   id: "0190a0b0-0000-7000-8000-000000000000", name: "docs", dimension: 3, metric: "l2",
 *   m: 16, efConstruction: 200, efSearch: 64, createdAt: new Date(0).toISOString(),
 *   state: "creating",
 * });
 * catalog.setState("0190a0b0-0000-7000-8000-000000000000", "ready");
 * assert.equal(catalog.list()[0]?.state, "ready");
 * catalog.close();
 * ```
 */
export class Catalog {
  /** The open database; other modules (snapshots, tiers, DLQ) may add their own tables. */
  readonly db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.db = db;
  }

  /**
   * Opens (creating if needed) the catalog database.
   *
   * @param path the SQLite file, or `:memory:`
   * @returns the catalog
   */
  static open(path: string): Catalog {
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
    db.exec(SCHEMA);
    return new Catalog(db);
  }

  /**
   * Every collection row, oldest first.
   *
   * @returns the rows
   * @throws CorruptionError when a row holds an impossible value
   */
  list(): CollectionRow[] {
    const rows = this.db.prepare("SELECT * FROM collections ORDER BY created_at, id").all();
    return rows.map((row) => toCollectionRow(row));
  }

  /**
   * Inserts a row (normally in state `creating`); durable when it returns.
   *
   * @param row the collection
   * @throws ConflictError when the name or id is taken
   */
  insert(row: CollectionRow): void {
    try {
      this.db.prepare(
        `INSERT INTO collections
           (id, name, dimension, metric, m, ef_construction, ef_search, created_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        row.id,
        row.name,
        row.dimension,
        row.metric,
        row.m,
        row.efConstruction,
        row.efSearch,
        row.createdAt,
        row.state,
      );
    } catch (error) {
      if (String(error).includes("UNIQUE")) {
        throw new ConflictError(`Cannot create collection "${row.name}": name is taken`, {
          cause: error,
          code: "collection_exists",
        });
      }
      throw error;
    }
  }

  /**
   * Moves a row to another lifecycle state; durable when it returns.
   *
   * @param id the collection id
   * @param state the new state
   */
  setState(id: string, state: CollectionState): void {
    this.db.prepare("UPDATE collections SET state = ? WHERE id = ?").run(state, id);
  }

  /**
   * Deletes a row; durable when it returns.
   *
   * @param id the collection id
   */
  delete(id: string): void {
    this.db.prepare("DELETE FROM collections WHERE id = ?").run(id);
  }

  /** Closes the database. */
  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function toCollectionRow(row: Record<string, unknown>): CollectionRow {
  const { id, name, metric, state } = row;
  const integer = (key: string): number => {
    const value = row[key];
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw new CorruptionError(`Cannot read catalog row ${String(id)}: ${key} is ${value}`);
    }
    return value;
  };
  if (typeof id !== "string" || typeof name !== "string") {
    throw new CorruptionError(`Cannot read catalog row: id or name is not text`);
  }
  if (!isMetric(metric) || typeof state !== "string" || !STATES.includes(state)) {
    throw new CorruptionError(`Cannot read catalog row ${id}: metric or state is invalid`);
  }
  return {
    id,
    name,
    dimension: integer("dimension"),
    metric,
    m: integer("m"),
    efConstruction: integer("ef_construction"),
    efSearch: integer("ef_search"),
    createdAt: String(row.created_at),
    state: state as CollectionState,
  };
}
