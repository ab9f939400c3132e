/**
 * An in-memory {@link FileIO} that simulates power loss. It keeps, per file,
 * the durable content (as of the last `syncData`) and the ordered list of
 * operations since; per directory, the durable entries (as of the last
 * `syncDir`). {@link MemoryFileIO.crash} then decides, with a seeded PRNG:
 *
 * - for each file, its un-synced operations in order: each write is kept whole,
 *   torn (a random prefix kept) or dropped, each truncation kept or dropped;
 *   after the first torn or dropped operation every later one is dropped, so
 *   the file holds its synced data plus a prefix of what followed;
 * - for each directory with un-synced entry changes: all of them are kept, or
 *   all revert to the last synced entries (a created file vanishes, a removed
 *   one returns with its own crashed content).
 *
 * Synced data always survives. Renames across directories are not atomic in
 * this model (each directory decides alone); the WAL renames nothing.
 *
 * @module
 */

import { CapacityError, ConflictError, NotFoundError } from "../errors.ts";
import {
  type FileHandle,
  type FileInfo,
  type FileIO,
  joinPath,
  type OpenOptions,
} from "./file_io.ts";

/**
 * A small, fast, seeded pseudo-random generator (mulberry32), for reproducible tests.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./wal/_test_support.ts";
 * const a = new SeededRandom(42);
 * const b = new SeededRandom(42);
 * assertEquals(a.next(), b.next());
 * assertEquals(a.int(10) < 10, true);
 * ```
 */
export class SeededRandom {
  #state: number;

  /** @param seed Any 32-bit integer; the same seed gives the same sequence. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** @returns A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * @param maxExclusive The upper bound, at least 1.
   * @returns An integer in [0, maxExclusive).
   */
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
}

type PendingOp =
  | { readonly kind: "write"; readonly bytes: Uint8Array }
  | { readonly kind: "truncate"; readonly sizeBytes: number };

interface FileNode {
  readonly kind: "file";
  data: Uint8Array;
  size: number;
  durable: Uint8Array;
  pending: PendingOp[];
}

interface DirNode {
  readonly kind: "dir";
  entries: Map<string, Node>;
  durable: Map<string, Node>;
  dirty: boolean;
}

type Node = FileNode | DirNode;

/** Counts of the calls a test may want to assert on. */
export interface MemoryFileIOCounters {
  /** `FileHandle.write` calls. */
  writes: number;
  /** Bytes passed to `FileHandle.write`. */
  bytesWritten: number;
  /** `FileHandle.syncData` calls. */
  syncData: number;
  /** `FileIO.syncDir` calls. */
  syncDir: number;
  /** Simulated crashes. */
  crashes: number;
}

/** The store behind every view of one simulated disk. */
interface SharedState {
  root: DirNode;
  readonly random: SeededRandom;
  readonly capacityBytes: number;
  readonly faults: Map<FaultableOperation, Error>;
  readonly counters: MemoryFileIOCounters;
  generation: number;
}

/** Options of {@link MemoryFileIO}. */
export interface MemoryFileIOOptions {
  /** Seed of the PRNG that decides what a crash keeps. */
  readonly seed: number;
  /** Total bytes all files may hold; a write beyond raises `CapacityError`. Default: unbounded. */
  readonly capacityBytes?: number;
}

/** An operation {@link MemoryFileIO.injectFault} can make fail. */
export type FaultableOperation = "write" | "syncData";

function newFile(): FileNode {
  return {
    kind: "file",
    data: new Uint8Array(64),
    size: 0,
    durable: new Uint8Array(0),
    pending: [],
  };
}

function newDir(): DirNode {
  return { kind: "dir", entries: new Map(), durable: new Map(), dirty: false };
}

function appendBytes(file: FileNode, bytes: Uint8Array): void {
  const needed = file.size + bytes.length;
  if (needed > file.data.length) {
    const grown = new Uint8Array(Math.max(needed, file.data.length * 2));
    grown.set(file.data.subarray(0, file.size));
    file.data = grown;
  }
  file.data.set(bytes, file.size);
  file.size = needed;
}

/** What a crash leaves of one file: its synced content plus a random prefix of later operations. */
function crashFile(file: FileNode, random: SeededRandom): void {
  const survivor: FileNode = {
    ...newFile(),
    data: file.durable.slice(),
    size: file.durable.length,
  };
  for (const op of file.pending) {
    const roll = random.int(3);
    if (op.kind === "truncate") {
      if (roll === 0) break;
      survivor.size = Math.min(survivor.size, op.sizeBytes);
    } else if (roll === 0) {
      appendBytes(survivor, op.bytes);
    } else {
      if (roll === 1) appendBytes(survivor, op.bytes.subarray(0, random.int(op.bytes.length)));
      break;
    }
  }
  file.data = survivor.data;
  file.size = survivor.size;
  file.durable = survivor.data.slice(0, survivor.size);
  file.pending = [];
}

/**
 * {@link FileIO} in memory, with simulated power loss ({@link crash}), injected faults and
 * call counters.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./wal/_test_support.ts";
 * const io = new MemoryFileIO({ seed: 1 });
 * await io.mkdir("/wal");
 * await io.syncDir("/");
 * const file = await io.open("/wal/a", { mode: "createNew" });
 * await io.syncDir("/wal");
 * await file.write(new Uint8Array([1, 2]));
 * await file.syncData();
 * await file.write(new Uint8Array([3, 4])); // not synced: may be lost or torn
 * const restarted = io.crash();
 * const kept = await restarted.readFile("/wal/a");
 * assertEquals(kept[0], 1);
 * assertEquals(kept.length >= 2 && kept.length <= 4, true);
 * ```
 */
export class MemoryFileIO implements FileIO {
  #state: SharedState;
  #alive = true;

  /** @param options The crash PRNG's seed and an optional capacity. */
  constructor(options: MemoryFileIOOptions) {
    this.#state = {
      root: newDir(),
      random: new SeededRandom(options.seed),
      capacityBytes: options.capacityBytes ?? Number.POSITIVE_INFINITY,
      faults: new Map(),
      counters: { writes: 0, bytesWritten: 0, syncData: 0, syncDir: 0, crashes: 0 },
      generation: 0,
    };
  }

  /** @returns Call counters, shared by every view of the same store; tests may reset them. */
  get counters(): MemoryFileIOCounters {
    return this.#state.counters;
  }

  /**
   * Simulate power loss: every un-synced write is kept, torn or dropped, every un-synced directory
   * change kept or reverted (see the module doc). The crashed "process" dies with it: this view
   * and every handle opened before fail from now on.
   *
   * @returns A fresh view of the surviving files, for the restarted process.
   */
  crash(): MemoryFileIO {
    this.#live("crash");
    const state = this.#state;
    state.counters.crashes += 1;
    state.generation += 1;
    const seen = new Set<Node>();
    const visit = (node: Node): void => {
      if (seen.has(node)) return;
      seen.add(node);
      if (node.kind === "file") {
        crashFile(node, state.random);
        return;
      }
      if (node.dirty) {
        if (state.random.int(2) === 0) node.entries = new Map(node.durable);
        else node.durable = new Map(node.entries);
        node.dirty = false;
      }
      for (const child of node.entries.values()) visit(child);
    };
    visit(state.root);
    this.#alive = false;
    const restarted = new MemoryFileIO({ seed: 0 });
    restarted.#state = state;
    return restarted;
  }

  /**
   * Make the next call of `operation` fail with `error` (once).
   *
   * @param operation Which handle operation fails.
   * @param error What it throws.
   */
  injectFault(operation: FaultableOperation, error: Error): void {
    this.#state.faults.set(operation, error);
  }

  /** @returns The total size in bytes of every file reachable in the tree. */
  totalSizeBytes(): number {
    let total = 0;
    const visit = (node: Node): void => {
      if (node.kind === "file") total += node.size;
      else for (const child of node.entries.values()) visit(child);
    };
    visit(this.#state.root);
    return total;
  }

  open(path: string, options: OpenOptions = {}): Promise<FileHandle> {
    const mode = options.mode ?? "existing";
    const { parent, name } = this.#parentOf(path, `open "${path}"`);
    let node = parent.entries.get(name);
    if (node !== undefined && mode === "createNew") {
      return Promise.reject(new ConflictError(`Cannot open "${path}": path already exists`));
    }
    if (node === undefined) {
      if (mode === "existing") {
        return Promise.reject(new NotFoundError(`Cannot open "${path}": no such file`));
      }
      node = newFile();
      parent.entries.set(name, node);
      parent.dirty = true;
    }
    if (node.kind !== "file") {
      return Promise.reject(new NotFoundError(`Cannot open "${path}": it is a directory`));
    }
    return Promise.resolve(this.#handle(path, node));
  }

  readFile(path: string, into?: Uint8Array): Promise<Uint8Array> {
    const node = this.#lookup(path, `read "${path}"`);
    if (node.kind !== "file") {
      return Promise.reject(new NotFoundError(`Cannot read "${path}": it is a directory`));
    }
    if (into === undefined || into.length < node.size) {
      return Promise.resolve(node.data.slice(0, node.size));
    }
    into.set(node.data.subarray(0, node.size));
    return Promise.resolve(into.subarray(0, node.size));
  }

  remove(path: string): Promise<void> {
    const { parent, name } = this.#parentOf(path, `remove "${path}"`);
    const node = parent.entries.get(name);
    if (node === undefined) {
      return Promise.reject(new NotFoundError(`Cannot remove "${path}": no such file`));
    }
    if (node.kind === "dir" && node.entries.size > 0) {
      return Promise.reject(new ConflictError(`Cannot remove "${path}": directory not empty`));
    }
    parent.entries.delete(name);
    parent.dirty = true;
    return Promise.resolve();
  }

  rename(fromPath: string, toPath: string): Promise<void> {
    const action = `rename "${fromPath}" to "${toPath}"`;
    const from = this.#parentOf(fromPath, action);
    const to = this.#parentOf(toPath, action);
    const node = from.parent.entries.get(from.name);
    if (node === undefined) {
      return Promise.reject(new NotFoundError(`Cannot ${action}: no such file`));
    }
    from.parent.entries.delete(from.name);
    to.parent.entries.set(to.name, node);
    from.parent.dirty = true;
    to.parent.dirty = true;
    return Promise.resolve();
  }

  readDir(path: string): Promise<string[]> {
    const node = this.#lookup(path, `list "${path}"`);
    if (node.kind !== "dir") {
      return Promise.reject(new NotFoundError(`Cannot list "${path}": not a directory`));
    }
    return Promise.resolve([...node.entries.keys()]);
  }

  mkdir(path: string): Promise<void> {
    this.#live(`create directory "${path}"`);
    let current = this.#state.root;
    for (const name of joinPath(path).split("/").filter((part) => part !== "")) {
      let child = current.entries.get(name);
      if (child === undefined) {
        child = newDir();
        current.entries.set(name, child);
        current.dirty = true;
      }
      if (child.kind !== "dir") {
        return Promise.reject(
          new ConflictError(`Cannot create directory "${path}": a file is in the way`),
        );
      }
      current = child;
    }
    return Promise.resolve();
  }

  syncDir(path: string): Promise<void> {
    const node = this.#lookup(path, `sync directory "${path}"`);
    if (node.kind !== "dir") {
      return Promise.reject(new NotFoundError(`Cannot sync directory "${path}": not a directory`));
    }
    this.#state.counters.syncDir += 1;
    node.durable = new Map(node.entries);
    node.dirty = false;
    return Promise.resolve();
  }

  stat(path: string): Promise<FileInfo | undefined> {
    try {
      const node = this.#lookup(path, `stat "${path}"`);
      const info = node.kind === "dir"
        ? { isDirectory: true, sizeBytes: 0 }
        : { isDirectory: false, sizeBytes: node.size };
      return Promise.resolve(info);
    } catch (error) {
      if (error instanceof NotFoundError) return Promise.resolve(undefined);
      throw error;
    }
  }

  #lookup(path: string, action: string): Node {
    this.#live(action);
    let current: Node = this.#state.root;
    for (const name of joinPath(path).split("/").filter((part) => part !== "")) {
      const child: Node | undefined = current.kind === "dir"
        ? current.entries.get(name)
        : undefined;
      if (child === undefined) {
        throw new NotFoundError(`Cannot ${action}: no such file or directory`);
      }
      current = child;
    }
    return current;
  }

  #parentOf(path: string, action: string): { parent: DirNode; name: string } {
    const parts = joinPath(path).split("/").filter((part) => part !== "");
    const name = parts.pop();
    if (name === undefined) throw new ConflictError(`Cannot ${action}: path is the root`);
    const parent = this.#lookup(parts.join("/"), action);
    if (parent.kind !== "dir") {
      throw new NotFoundError(`Cannot ${action}: parent is not a directory`);
    }
    return { parent, name };
  }

  /** Throw if this view belongs to a process that crashed. */
  #live(action: string): void {
    if (!this.#alive) {
      throw new Error(`Cannot ${action}: this view of the store died in a simulated crash`);
    }
  }

  #takeFault(operation: FaultableOperation): void {
    const fault = this.#state.faults.get(operation);
    if (fault === undefined) return;
    this.#state.faults.delete(operation);
    throw fault;
  }

  #handle(path: string, file: FileNode): FileHandle {
    const generation = this.#state.generation;
    const check = (action: string): void => {
      if (generation !== this.#state.generation) {
        throw new Error(`Cannot ${action} "${path}": handle was opened before a simulated crash`);
      }
    };
    return {
      path,
      write: async (data) => {
        check("write");
        this.#takeFault("write");
        if (this.totalSizeBytes() + data.length > this.#state.capacityBytes) {
          throw new CapacityError(`Cannot write to "${path}": no space left on device`);
        }
        this.#state.counters.writes += 1;
        this.#state.counters.bytesWritten += data.length;
        appendBytes(file, data);
        file.pending.push({ kind: "write", bytes: data.slice() });
        await Promise.resolve();
      },
      readAt: (offsetBytes, lengthBytes) => {
        check("read");
        const end = Math.min(file.size, offsetBytes + lengthBytes);
        return Promise.resolve(file.data.slice(Math.min(offsetBytes, end), end));
      },
      syncData: async () => {
        check("sync");
        this.#takeFault("syncData");
        this.#state.counters.syncData += 1;
        file.durable = file.data.slice(0, file.size);
        file.pending = [];
        await Promise.resolve();
      },
      truncate: (sizeBytes) => {
        check("truncate");
        file.size = Math.min(file.size, sizeBytes);
        file.pending.push({ kind: "truncate", sizeBytes });
        return Promise.resolve();
      },
      sizeBytes: () => {
        check("stat");
        return Promise.resolve(file.size);
      },
      close: () => Promise.resolve(),
    };
  }
}
