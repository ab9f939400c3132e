/**
 * Power loss during a snapshot write (MemoryFileIO): at every file-system
 * operation of the write, crash; after restart and cleanup, every snapshot
 * directory that exists verifies, the earlier snapshot is intact, and no
 * `.tmp-*` directory remains.
 */

import assert from "node:assert/strict";
import type { FileHandle, FileIO, OpenOptions } from "../src/storage/file_io.ts";
import { MemoryFileIO } from "../src/storage/memory_file_io.ts";
import {
  listSnapshotIds,
  readSnapshot,
  removeTempSnapshots,
  writeSnapshot,
} from "../src/storage/snapshot/mod.ts";
import { testSeed } from "./support/seeded_random.ts";
import { bitsOf, buildFixture } from "./snapshot_support.ts";

class PowerCut extends Error {}

/** Delegates to a MemoryFileIO and cuts the power at its `budget`-th operation. */
class CrashingIO implements FileIO {
  operations = 0;
  survivor: MemoryFileIO | undefined;
  readonly #inner: MemoryFileIO;
  readonly #budget: number;

  constructor(inner: MemoryFileIO, budget: number) {
    this.#inner = inner;
    this.#budget = budget;
  }

  #tick(): void {
    if (this.survivor !== undefined) throw new PowerCut("already crashed");
    this.operations += 1;
    if (this.operations === this.#budget) {
      this.survivor = this.#inner.crash();
      throw new PowerCut(`power cut at operation ${this.operations}`);
    }
  }

  async open(path: string, options?: OpenOptions): Promise<FileHandle> {
    this.#tick();
    const handle = await this.#inner.open(path, options);
    const tick = () => this.#tick();
    return {
      path: handle.path,
      write: (data) => (tick(), handle.write(data)),
      readAt: (offset, length) => handle.readAt(offset, length),
      syncData: () => (tick(), handle.syncData()),
      truncate: (size) => (tick(), handle.truncate(size)),
      sizeBytes: () => handle.sizeBytes(),
      close: () => (tick(), handle.close()),
    };
  }
  readFile(path: string, into?: Uint8Array) {
    return this.#inner.readFile(path, into);
  }
  remove(path: string) {
    this.#tick();
    return this.#inner.remove(path);
  }
  rename(from: string, to: string) {
    this.#tick();
    return this.#inner.rename(from, to);
  }
  readDir(path: string) {
    return this.#inner.readDir(path);
  }
  mkdir(path: string) {
    this.#tick();
    return this.#inner.mkdir(path);
  }
  syncDir(path: string) {
    this.#tick();
    return this.#inner.syncDir(path);
  }
  stat(path: string) {
    return this.#inner.stat(path);
  }
}

Deno.test("a crash at any point of a snapshot write never leaves a bad snapshot", async () => {
  const seed = testSeed("snapshot crash");
  const { input } = await buildFixture(seed, {
    count: 150,
    tailCount: 4,
    dimension: 8,
    metric: "cosine",
  });
  // Count the operations of one clean write.
  const probe = new CrashingIO(new MemoryFileIO({ seed }), Number.POSITIVE_INFINITY);
  await writeSnapshot(probe, "/c", input);
  const total = probe.operations;
  assert.ok(total >= 10, `a write takes ${total} operations`);

  for (let budget = 1; budget <= total; budget++) {
    for (let round = 0; round < 3; round++) {
      const memory = new MemoryFileIO({ seed: seed + budget * 7 + round });
      await memory.mkdir("/c"); // the engine makes the collection directory durable first
      await memory.syncDir("/");
      const first = await writeSnapshot(memory, "/c", { ...input, lsn: 10 });
      const io = new CrashingIO(memory, budget);
      await assert.rejects(() => writeSnapshot(io, "/c", { ...input, lsn: 20 }), PowerCut);
      const restarted = io.survivor!;
      await removeTempSnapshots(restarted, "/c");
      assert.deepEqual(
        (await restarted.readDir("/c/snapshots")).filter((name) => name.startsWith(".tmp-")),
        [],
      );
      const ids = await listSnapshotIds(restarted, "/c");
      assert.ok(ids.includes(first.snapshot_id), `budget ${budget}: the first snapshot is gone`);
      for (const id of ids) {
        const data = await readSnapshot(restarted, "/c", id); // throws if incomplete
        assert.deepEqual(bitsOf(data.rows.vectors), bitsOf(input.rows.vectors));
      }
    }
  }
  // The last operation (the parent's syncDir) makes the new snapshot durable; a crash right
  // after it always keeps it.
  const memory = new MemoryFileIO({ seed });
  await memory.mkdir("/c");
  await memory.syncDir("/");
  const io = new CrashingIO(memory, total + 1);
  const second = await writeSnapshot(io, "/c", input);
  const restarted = memory.crash();
  assert.deepEqual(await listSnapshotIds(restarted, "/c"), [second.snapshot_id]);
});
