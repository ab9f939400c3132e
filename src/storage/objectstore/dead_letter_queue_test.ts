import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { CapacityError } from "../../errors.ts";
import { DeadLetterQueue } from "./dead_letter_queue.ts";
import { type ObjectKey, snapshotObjectKey } from "./object_key.ts";
import type { ObjectStore } from "./object_store.ts";
import { ObjectStoreError } from "./object_store_error.ts";

const COLLECTION = "0192f0a8-6a8e-7c1f-9c1e-0a1b2c3d4e5f";
const key = (snapshotId: string) => snapshotObjectKey(COLLECTION, snapshotId, "graph.bin");

/** Records writes; fails those whose key is in `failing`. Only what retryAll calls. */
class RecordingStore implements Pick<ObjectStore, "put" | "putFile" | "delete"> {
  readonly writes: string[] = [];
  readonly failing = new Set<string>();
  #check(key: ObjectKey) {
    if (this.failing.has(key)) throw new ObjectStoreError("down", { kind: "network" });
  }
  put(key: ObjectKey, bytes: Uint8Array) {
    this.#check(key);
    this.writes.push(`put ${key} ${bytes.join(",")}`);
    return Promise.resolve();
  }
  async putFile(key: ObjectKey, path: string) {
    this.#check(key);
    this.writes.push(`put_file ${key} ${(await Deno.readFile(path)).join(",")}`);
  }
  delete(key: ObjectKey) {
    this.#check(key);
    this.writes.push(`delete ${key}`);
    return Promise.resolve();
  }
}

Deno.test("DeadLetterQueue: entries survive a reopen, one per key, newest intent wins", async () => {
  const directory = await Deno.makeTempDir({ prefix: "akidb-dlq-" });
  const dbPath = `${directory}/catalog.sqlite`;
  let nowMs = 1_000;
  const sizes: number[] = [];
  const observer = {
    onOperation() {},
    onBreakerState() {},
    onDlqSize: (n: number) => void sizes.push(n),
  };
  try {
    let db = new DatabaseSync(dbPath);
    let dlq = new DeadLetterQueue(db, { now: () => nowMs, observer });
    dlq.record({
      operation: "put",
      key: key("a"),
      bytes: Uint8Array.of(1, 2, 3),
      attempts: 5,
      error: new Error("e1"),
    });
    await Deno.writeFile(`${directory}/b.bin`, Uint8Array.of(9, 9));
    dlq.record({
      operation: "put_file",
      key: key("b"),
      localPath: `${directory}/b.bin`,
      sizeBytes: 2,
      attempts: 3,
      error: new Error("e2"),
    });
    nowMs = 2_000;
    dlq.record({ operation: "delete", key: key("c"), attempts: 0, error: new Error("open") });
    dlq.record({ operation: "delete", key: key("a"), attempts: 2, error: new Error("e3") });
    assert.equal(dlq.size, 3);
    assert.deepEqual(sizes, [0, 1, 2, 3, 3]);
    db.close();

    db = new DatabaseSync(dbPath);
    dlq = new DeadLetterQueue(db, { now: () => nowMs, observer });
    const entries = dlq.list();
    assert.deepEqual(
      entries.map((
        e,
      ) => [e.operation, e.key, e.attempts, e.lastError, e.firstFailureAtMs, e.lastFailureAtMs]),
      [
        ["delete", key("a"), 7, "e3", 1_000, 2_000],
        ["put_file", key("b"), 3, "e2", 1_000, 1_000],
        ["delete", key("c"), 0, "open", 2_000, 2_000],
      ],
    );
    assert.equal(entries[1]!.localPath, `${directory}/b.bin`);
    assert.equal(entries[1]!.sizeBytes, 2);

    // retryAll replays each once; failures stay with attempts + 1, successes go.
    const store = new RecordingStore();
    store.failing.add(key("c"));
    nowMs = 3_000;
    const report = await dlq.retryAll(store as unknown as ObjectStore);
    assert.deepEqual(report, { succeeded: 2, failed: 1, remaining: 1 });
    assert.deepEqual(store.writes.sort(), [`delete ${key("a")}`, `put_file ${key("b")} 9,9`]);
    const [left] = dlq.list();
    assert.deepEqual([left!.key, left!.attempts, left!.lastError, left!.lastFailureAtMs], [
      key("c"),
      1,
      "down",
      3_000,
    ]);
    db.close();
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("DeadLetterQueue: put bytes are replayed exactly; a full queue refuses new keys", async () => {
  const db = new DatabaseSync(":memory:");
  const dlq = new DeadLetterQueue(db, { entriesMax: 2 });
  dlq.record({
    operation: "put",
    key: key("a"),
    bytes: Uint8Array.of(0, 255, 7),
    attempts: 1,
    error: "x",
  });
  dlq.record({
    operation: "put",
    key: key("b"),
    bytes: new Uint8Array(0),
    attempts: 1,
    error: "x",
  });
  assert.throws(
    () => dlq.record({ operation: "delete", key: key("c"), attempts: 1, error: "x" }),
    CapacityError,
  );
  dlq.record({ operation: "put", key: key("b"), bytes: Uint8Array.of(4), attempts: 1, error: "y" }); // same key: fine
  const store = new RecordingStore();
  assert.deepEqual(await dlq.retryAll(store as unknown as ObjectStore), {
    succeeded: 2,
    failed: 0,
    remaining: 0,
  });
  assert.deepEqual(store.writes.sort(), [`put ${key("a")} 0,255,7`, `put ${key("b")} 4`]);
  db.close();
});

Deno.test("DeadLetterQueue: a tampered key in the table is refused when read", () => {
  const db = new DatabaseSync(":memory:");
  const dlq = new DeadLetterQueue(db);
  db.prepare(
    `INSERT INTO objectstore_dlq (operation, key, size_bytes, attempts, last_error,
       first_failure_at_ms, last_failure_at_ms) VALUES ('delete', '../../etc/passwd', 0, 1, 'x', 0, 0)`,
  ).run();
  assert.throws(() => dlq.list(), TypeError);
  db.close();
});
