/**
 * A damaged or mismatched snapshot is refused with a CorruptionError that
 * names the file; an unknown id is a NotFoundError. One table of cases.
 */

import assert from "node:assert/strict";
import { CorruptionError, NotFoundError } from "../src/errors.ts";
import { HnswIndex } from "../src/index/mod.ts";
import type { FileIO } from "../src/storage/file_io.ts";
import { MemoryFileIO } from "../src/storage/memory_file_io.ts";
import {
  readSnapshot,
  type SnapshotExpectation,
  verifySnapshot,
  writeSnapshot,
} from "../src/storage/snapshot/mod.ts";
import { sha256Hex } from "../src/storage/snapshot/manifest.ts";
import { readThriftStruct } from "../src/storage/snapshot/thrift_compact.ts";
import { buildFixture, snapshotKernel } from "./snapshot_support.ts";

async function overwrite(io: FileIO, path: string, bytes: Uint8Array): Promise<void> {
  await io.remove(path);
  const handle = await io.open(path, { mode: "createNew" });
  await handle.write(bytes);
  await handle.syncData();
  await handle.close();
}

type Manifest = Record<string, unknown> & {
  files: Record<string, { size_bytes: number; sha256: string }>;
};

async function editManifest(io: FileIO, dir: string, edit: (m: Manifest) => void): Promise<void> {
  const path = `${dir}/manifest.json`;
  const manifest = JSON.parse(new TextDecoder().decode(await io.readFile(path))) as Manifest;
  edit(manifest);
  await overwrite(io, path, new TextEncoder().encode(JSON.stringify(manifest)));
}

/** Replaces a data file and re-signs it in the manifest, so only deeper checks can catch it. */
async function replaceSigned(io: FileIO, dir: string, name: string, bytes: Uint8Array) {
  await overwrite(io, `${dir}/${name}`, bytes);
  const sha256 = await sha256Hex(bytes);
  await editManifest(io, dir, (m) => {
    m.files[name] = { size_bytes: bytes.byteLength, sha256 };
  });
}

/**
 * Edits `vectors.parquet` through `edit(bytes, floatsAt)` and re-signs it. Our writer puts the
 * vector page first (at byte 4); `floatsAt` is where its levels end and its floats begin.
 */
async function editParquetSigned(
  io: FileIO,
  dir: string,
  edit: (bytes: Uint8Array, levelsAt: number, floatsAt: number) => Uint8Array,
): Promise<void> {
  const bytes = (await io.readFile(`${dir}/vectors.parquet`)).slice();
  const levelsAt = readThriftStruct(bytes, 4).end;
  const view = new DataView(bytes.buffer);
  const repetitionBytes = view.getUint32(levelsAt, true);
  const definitionBytes = view.getUint32(levelsAt + 4 + repetitionBytes, true);
  const floatsAt = levelsAt + 8 + repetitionBytes + definitionBytes;
  await replaceSigned(io, dir, "vectors.parquet", edit(bytes, levelsAt, floatsAt));
}

interface Case {
  readonly name: string;
  readonly damage: (io: FileIO, dir: string) => Promise<void>;
  /** The message must contain this (the file it names, the reason). */
  readonly message: RegExp;
  readonly expect?: SnapshotExpectation;
}

const CASES: readonly Case[] = [
  {
    name: "truncated parquet",
    damage: async (io, dir) => {
      const bytes = await io.readFile(`${dir}/vectors.parquet`);
      await overwrite(io, `${dir}/vectors.parquet`, bytes.slice(0, bytes.byteLength - 100));
    },
    message: /vectors\.parquet.*size is/,
  },
  {
    name: "truncated parquet, manifest re-signed",
    damage: async (io, dir) => {
      const bytes = await io.readFile(`${dir}/vectors.parquet`);
      await replaceSigned(io, dir, "vectors.parquet", bytes.slice(0, bytes.byteLength >> 1));
    },
    message: /vectors\.parquet.*not a readable Parquet file/,
  },
  {
    name: "garbled vector page header, re-signed",
    damage: (io, dir) =>
      editParquetSigned(io, dir, (bytes) => {
        bytes.fill(0xff, 4, 8);
        return bytes;
      }),
    message: /vectors\.parquet.*damaged page or footer/,
  },
  {
    name: "vector rows of 7 floats in the levels, re-signed",
    damage: (io, dir) =>
      editParquetSigned(io, dir, (bytes, levelsAt) => {
        // Row 0's repetition levels: RLE (1 × 0), RLE (7 × 1) = 02 00 0e 01; make it 6 × 1.
        assert.deepEqual([...bytes.subarray(levelsAt + 4, levelsAt + 8)], [2, 0, 14, 1]);
        bytes[levelsAt + 6] = 12;
        return bytes;
      }),
    message: /vectors\.parquet.*not 8 floats each/,
  },
  {
    name: "vector page 4 bytes short of its header, re-signed",
    damage: (io, dir) =>
      editParquetSigned(io, dir, (bytes, _levelsAt, floatsAt) => {
        const cut = floatsAt + 40;
        const shorter = new Uint8Array(bytes.byteLength - 4);
        shorter.set(bytes.subarray(0, cut));
        shorter.set(bytes.subarray(cut + 4), cut);
        return shorter;
      }),
    message: /vectors\.parquet.*(damaged page or footer|page|column)/,
  },
  {
    name: "vector floats cut off mid-file (footer kept), re-signed",
    damage: (io, dir) =>
      editParquetSigned(io, dir, (bytes, _levelsAt, floatsAt) => {
        const footerBytes = new DataView(bytes.buffer).getUint32(bytes.byteLength - 8, true);
        const footer = bytes.slice(bytes.byteLength - 8 - footerBytes);
        const cut = new Uint8Array(floatsAt + 100 + footer.byteLength);
        cut.set(bytes.subarray(0, floatsAt + 100));
        cut.set(footer, floatsAt + 100);
        return cut;
      }),
    message: /vectors\.parquet.*(lies outside|damaged page or footer)/,
  },
  {
    name: "flipped byte in graph.bin",
    damage: async (io, dir) => {
      const bytes = (await io.readFile(`${dir}/graph.bin`)).slice();
      bytes[bytes.byteLength >> 1]! ^= 0x40;
      await overwrite(io, `${dir}/graph.bin`, bytes);
    },
    message: /graph\.bin.*SHA-256/,
  },
  {
    name: "flipped byte in vectors.parquet",
    damage: async (io, dir) => {
      const bytes = (await io.readFile(`${dir}/vectors.parquet`)).slice();
      bytes[200]! ^= 0x01;
      await overwrite(io, `${dir}/vectors.parquet`, bytes);
    },
    message: /vectors\.parquet.*SHA-256/,
  },
  {
    name: "missing graph.bin",
    damage: (io, dir) => io.remove(`${dir}/graph.bin`),
    message: /graph\.bin.*missing/,
  },
  {
    name: "missing manifest",
    damage: (io, dir) => io.remove(`${dir}/manifest.json`),
    message: /manifest\.json.*missing/,
  },
  {
    name: "manifest not JSON",
    damage: (io, dir) => overwrite(io, `${dir}/manifest.json`, new TextEncoder().encode("{oops")),
    message: /manifest\.json.*not JSON/,
  },
  {
    name: "manifest of a future format",
    damage: (io, dir) => editManifest(io, dir, (m) => void (m.format_version = 2)),
    message: /manifest\.json.*format_version is 2/,
  },
  {
    name: "manifest with a wrong vector_count",
    damage: (io, dir) =>
      editManifest(io, dir, (m) => void (m.vector_count = (m.vector_count as number) + 1)),
    message: /vectors\.parquet.*rows, manifest says \d+/,
  },
  {
    name: "manifest with another snapshot's id",
    damage: (io, dir) =>
      editManifest(io, dir, (m) => void (m.snapshot_id = "00000000000000001234-00000000")),
    message: /manifest\.json.*snapshot_id/,
  },
  {
    name: "manifest without checksums",
    damage: (io, dir) => editManifest(io, dir, (m) => void (m.files = {})),
    message: /manifest\.json.*files\["vectors\.parquet"\]/,
  },
  {
    name: "another collection's snapshot",
    damage: () => Promise.resolve(),
    expect: { collectionId: "0190a0b0-0000-7000-8000-00000000ffff" },
    message: /manifest\.json.*collection_id/,
  },
  {
    name: "dimension mismatch",
    damage: () => Promise.resolve(),
    expect: { dimension: 9 },
    message: /manifest\.json.*dimension is 8, expected 9/,
  },
  {
    name: "metric mismatch",
    damage: () => Promise.resolve(),
    expect: { metric: "dot" },
    message: /manifest\.json.*metric is "l2", expected "dot"/,
  },
];

for (const testCase of CASES) {
  Deno.test(`snapshot refused: ${testCase.name}`, async () => {
    const { input } = await buildFixture(7, {
      count: 300,
      tailCount: 3,
      dimension: 8,
      metric: "l2",
    });
    const io = new MemoryFileIO({ seed: 7 });
    const { snapshot_id: id } = await writeSnapshot(io, "/c", input);
    await testCase.damage(io, `/c/snapshots/${id}`);
    for (const read of [readSnapshot, verifySnapshot]) {
      // verifySnapshot does not decode the Parquet file: a re-signed file only fails reading.
      if (read === verifySnapshot && /re-signed|vector_count/.test(testCase.name)) continue;
      await assert.rejects(
        () => read(io, "/c", id, testCase.expect),
        (error: unknown) => {
          assert.ok(error instanceof CorruptionError, String(error));
          assert.match(error.message, testCase.message);
          assert.equal(error.code, "snapshot_corrupt");
          return true;
        },
      );
    }
  });
}

Deno.test("a re-signed graph.bin that does not match the rows is refused by loadGraph", async () => {
  const { input } = await buildFixture(8, { count: 100, tailCount: 0, dimension: 8, metric: "l2" });
  const other = await buildFixture(9, { count: 50, tailCount: 0, dimension: 8, metric: "l2" });
  const io = new MemoryFileIO({ seed: 8 });
  const { snapshot_id: id } = await writeSnapshot(io, "/c", input);
  await replaceSigned(io, `/c/snapshots/${id}`, "graph.bin", other.input.graph);
  const data = await readSnapshot(io, "/c", id);
  assert.throws(
    () =>
      HnswIndex.loadGraph(snapshotKernelSync!, data.graph, {
        count: data.manifest.graph_rows,
        id: (row) => data.rows.ids[row]!,
        vector: (row) => data.rows.vectors.subarray(row * 8, row * 8 + 8),
      }),
    CorruptionError,
  );
});

const snapshotKernelSync = await snapshotKernel();

Deno.test("unknown and malformed snapshot ids are NotFoundError", async () => {
  const io = new MemoryFileIO({ seed: 1 });
  await io.mkdir("/c/snapshots");
  for (const id of ["00000000000000000001-00000000", "latest", "../../etc", ""]) {
    await assert.rejects(() => readSnapshot(io, "/c", id), NotFoundError);
  }
});
