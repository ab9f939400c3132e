/** One suite, two implementations: DiskFileIO and MemoryFileIO must behave alike. */
import { ConflictError, NotFoundError } from "../errors.ts";
import { DiskFileIO } from "./disk_file_io.ts";
import { type FileIO, joinPath, parentPath } from "./file_io.ts";
import { MemoryFileIO } from "./memory_file_io.ts";
import { assertEquals, assertRejects } from "./wal/_test_support.ts";

interface Fixture {
  io: FileIO;
  root: string;
  dispose(): Promise<void>;
}

const implementations: Record<string, () => Promise<Fixture>> = {
  disk: async () => {
    const root = await Deno.makeTempDir({ prefix: "akidb-file-io-" });
    return { io: new DiskFileIO(), root, dispose: () => Deno.remove(root, { recursive: true }) };
  },
  memory: async () => {
    const io = new MemoryFileIO({ seed: 7 });
    await io.mkdir("/tmp/root");
    return { io, root: "/tmp/root", dispose: () => Promise.resolve() };
  },
};

const bytes = (...values: number[]) => new Uint8Array(values);

for (const [name, setUp] of Object.entries(implementations)) {
  Deno.test(`${name} FileIO: open modes, append, read, size, truncate`, async () => {
    const { io, root, dispose } = await setUp();
    try {
      const path = joinPath(root, "a.bin");
      await assertRejects(() => io.open(path), NotFoundError);
      const file = await io.open(path, { mode: "createNew" });
      await assertRejects(() => io.open(path, { mode: "createNew" }), ConflictError);
      await file.write(bytes(1, 2, 3));
      await file.write(bytes(4, 5));
      await file.syncData();
      assertEquals(await file.sizeBytes(), 5);
      assertEquals(await file.readAt(1, 3), bytes(2, 3, 4));
      assertEquals(await file.readAt(3, 10), bytes(4, 5));
      await file.truncate(2);
      await file.write(bytes(9));
      assertEquals(await io.readFile(path), bytes(1, 2, 9));
      await file.close();
      const again = await io.open(path, { mode: "create" });
      await again.write(bytes(7));
      await again.close();
      assertEquals(await io.readFile(path), bytes(1, 2, 9, 7));
      assertEquals(await io.stat(path), { isDirectory: false, sizeBytes: 4 });
    } finally {
      await dispose();
    }
  });

  Deno.test(`${name} FileIO: readFile into a caller's buffer when it is large enough`, async () => {
    const { io, root, dispose } = await setUp();
    try {
      const path = joinPath(root, "r.bin");
      const file = await io.open(path, { mode: "createNew" });
      await file.write(bytes(1, 2, 3));
      await file.close();
      const reused = new Uint8Array(16).fill(0xee);
      const read = await io.readFile(path, reused);
      assertEquals(read, bytes(1, 2, 3));
      assertEquals(read.buffer === reused.buffer, true);
      const small = new Uint8Array(2);
      const fresh = await io.readFile(path, small);
      assertEquals(fresh, bytes(1, 2, 3));
      assertEquals(fresh.buffer === small.buffer, false);
      assertEquals(small, bytes(0, 0));
    } finally {
      await dispose();
    }
  });

  Deno.test(`${name} FileIO: directories, rename, remove, stat, syncDir`, async () => {
    const { io, root, dispose } = await setUp();
    try {
      const dir = joinPath(root, "c1", "wal");
      await io.mkdir(dir);
      await io.mkdir(dir);
      await io.syncDir(parentPath(dir));
      assertEquals(await io.stat(dir), { isDirectory: true, sizeBytes: 0 });
      assertEquals(await io.stat(joinPath(dir, "missing")), undefined);
      await (await io.open(joinPath(dir, "x"), { mode: "create" })).close();
      await io.rename(joinPath(dir, "x"), joinPath(dir, "y"));
      await io.syncDir(dir);
      assertEquals(await io.readDir(dir), ["y"]);
      await io.remove(joinPath(dir, "y"));
      assertEquals(await io.readDir(dir), []);
      await assertRejects(() => io.remove(joinPath(dir, "y")), NotFoundError);
      await assertRejects(() => io.readFile(joinPath(dir, "y")), NotFoundError);
      await assertRejects(() => io.readDir(joinPath(root, "nope")), NotFoundError);
      await assertRejects(() => io.rename(joinPath(dir, "y"), joinPath(dir, "z")), NotFoundError);
    } finally {
      await dispose();
    }
  });
}
