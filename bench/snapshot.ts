/**
 * Snapshot benchmark on the real disk: for seeded random vectors (10k × 512 and
 * 100k × 768 by default), the time to build the HNSW index (= a rebuild from
 * the vectors), to create a snapshot (the synchronous capture, then encoding,
 * hashing and writing the files) and to restore it (read + verify, decode
 * Parquet, load the graph without rebuilding). Checks that the restored index
 * answers queries exactly like the original. Prints a table and writes
 * `bench/results/snapshot.json`.
 *
 * Run: `node_modules/.bin/deno run -A bench/snapshot.ts`
 * (env `SNAPSHOT_BENCH_SIZES=10000x512,100000x768`, `SNAPSHOT_BENCH_EF_CONSTRUCTION=200`,
 * `SNAPSHOT_BENCH_REUSE=1` to load a built index cached under `.akidb-tmp/` instead of
 * rebuilding it — for iterating on the snapshot code; the recorded run rebuilds).
 *
 * @module
 */

import { HnswIndex, type PointId } from "../src/index/mod.ts";
import { loadKernel } from "../src/kernel/mod.ts";
import { DiskFileIO } from "../src/storage/disk_file_io.ts";
import { readSnapshot, writeSnapshotFiles } from "../src/storage/snapshot/mod.ts";
import {
  decodeVectorsParquet,
  encodeVectorsParquetParts,
} from "../src/storage/snapshot/vectors_parquet.ts";
import { randomVector, seededRandom } from "../tests/support/seeded_random.ts";

const SIZES = (Deno.env.get("SNAPSHOT_BENCH_SIZES") ?? "10000x512,100000x768").split(",")
  .map((size) => size.split("x").map(Number) as [number, number]);
const EF_CONSTRUCTION = Number(Deno.env.get("SNAPSHOT_BENCH_EF_CONSTRUCTION") ?? 200);
const M = 16;
const SEED = 20261122;
const REUSE = Deno.env.get("SNAPSHOT_BENCH_REUSE") === "1";
const CACHE_DIR = new URL("../.akidb-tmp/", import.meta.url);

interface Result {
  count: number;
  dimension: number;
  metric: "cosine";
  m: number;
  efConstruction: number;
  buildSeconds: number;
  buildReused: boolean;
  captureMs: number;
  captureGraphMs: number;
  writeMs: number;
  encodeParquetMs: number;
  hashWriteSyncMs: number;
  createMs: number;
  readVerifyDecodeMs: number;
  decodeParquetMs: number;
  loadGraphMs: number;
  restoreMs: number;
  restoreShareOfRebuild: number;
  vectorsParquetBytes: number;
  graphBinBytes: number;
  identicalSearch: boolean;
}

const kernel = await loadKernel();

async function run(count: number, dimension: number): Promise<Result> {
  const random = seededRandom(SEED + count + dimension);
  const vectors = Array.from({ length: count }, () => randomVector(random, dimension));
  const { index, buildSeconds, buildReused } = await buildIndex(vectors, dimension);

  const dir = await Deno.makeTempDir({ prefix: "akidb-bench-snapshot-" });
  try {
    // Create: the capture is what the engine does synchronously (writes pause for it).
    const captureStart = performance.now();
    const graph = index.exportGraph();
    const captureGraphMs = performance.now() - captureStart;
    const ids: PointId[] = [];
    const flat = new Float32Array(count * dimension);
    index.copyEntriesInto(flat, 0, ids); // as LiveIndex.capture does
    const metadata = ids.map((id) => `{"id":${JSON.stringify(id)},"group":${ids.length % 7}}`);
    const captureMs = performance.now() - captureStart;
    // = writeSnapshot, in two timed steps: encode the Parquet file, then hash + write + fsync.
    const writeStart = performance.now();
    const io = new DiskFileIO();
    const parquet = encodeVectorsParquetParts({ ids, vectors: flat, metadata }, dimension);
    const encodeParquetMs = performance.now() - writeStart;
    const manifest = await writeSnapshotFiles(
      io,
      dir,
      {
        collection: {
          id: "bench",
          name: "bench",
          dimension,
          metric: "cosine",
          m: M,
          efConstruction: EF_CONSTRUCTION,
          efSearch: 64,
        },
        lsn: count,
        graph,
        graphRows: ids.length,
      },
      parquet,
      ids.length,
    );
    const writeMs = performance.now() - writeStart;

    // Restore: read + verify + decode, then load the graph without rebuilding.
    const readStart = performance.now();
    const data = await readSnapshot(io, dir, manifest.snapshot_id);
    const readVerifyDecodeMs = performance.now() - readStart;
    // The decode step alone (already included in readVerifyDecodeMs), timed once more.
    const decodeStart = performance.now();
    decodeVectorsParquet(data.vectorsParquet, dimension, "bench");
    const decodeParquetMs = performance.now() - decodeStart;
    const loadStart = performance.now();
    const restored = HnswIndex.loadGraph(kernel, data.graph, {
      count: data.manifest.graph_rows,
      id: (row) => data.rows.ids[row]!,
      vector: (row) => data.rows.vectors.subarray(row * dimension, (row + 1) * dimension),
    });
    const loadGraphMs = performance.now() - loadStart;

    let identicalSearch = restored.size === index.size;
    for (let q = 0; q < 50 && identicalSearch; q++) {
      const query = randomVector(random, dimension);
      identicalSearch = JSON.stringify(restored.search(query, 10)) ===
        JSON.stringify(index.search(query, 10));
    }
    const restoreMs = readVerifyDecodeMs + loadGraphMs;
    return {
      count,
      dimension,
      metric: "cosine",
      m: M,
      efConstruction: EF_CONSTRUCTION,
      buildSeconds: round(buildSeconds, 2),
      buildReused,
      captureMs: round(captureMs, 1),
      captureGraphMs: round(captureGraphMs, 1),
      writeMs: round(writeMs, 1),
      encodeParquetMs: round(encodeParquetMs, 1),
      hashWriteSyncMs: round(writeMs - encodeParquetMs, 1),
      createMs: round(captureMs + writeMs, 1),
      readVerifyDecodeMs: round(readVerifyDecodeMs, 1),
      decodeParquetMs: round(decodeParquetMs, 1),
      loadGraphMs: round(loadGraphMs, 1),
      restoreMs: round(restoreMs, 1),
      restoreShareOfRebuild: round(restoreMs / (buildSeconds * 1000), 4),
      vectorsParquetBytes: manifest.files["vectors.parquet"].size_bytes,
      graphBinBytes: manifest.files["graph.bin"].size_bytes,
      identicalSearch,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The index over `vectors`: built (timed: the rebuild a restore avoids), or with
 * `SNAPSHOT_BENCH_REUSE=1` loaded from `.akidb-tmp/` when an earlier run cached it.
 */
async function buildIndex(
  vectors: readonly Float32Array[],
  dimension: number,
): Promise<{ index: HnswIndex; buildSeconds: number; buildReused: boolean }> {
  const name = `snapshot-bench-${vectors.length}x${dimension}-m${M}-ef${EF_CONSTRUCTION}-${SEED}`;
  const cached = new URL(`${name}.idx`, CACHE_DIR);
  const timing = new URL(`${name}.json`, CACHE_DIR);
  if (REUSE) {
    try {
      const index = HnswIndex.load(kernel, await Deno.readFile(cached));
      const { buildSeconds } = JSON.parse(await Deno.readTextFile(timing));
      return { index, buildSeconds, buildReused: true };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const buildStart = performance.now();
  const index = new HnswIndex(kernel, {
    dimension,
    metric: "cosine",
    m: M,
    efConstruction: EF_CONSTRUCTION,
  });
  index.reserve(vectors.length);
  vectors.forEach((vector, i) => index.upsert(i % 2 === 0 ? i : `doc-${i}`, vector));
  const buildSeconds = (performance.now() - buildStart) / 1000;
  await Deno.mkdir(CACHE_DIR, { recursive: true });
  await Deno.writeFile(cached, index.serialize());
  await Deno.writeTextFile(timing, JSON.stringify({ buildSeconds }));
  return { index, buildSeconds, buildReused: false };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

const results: Result[] = [];
for (const [count, dimension] of SIZES) {
  const result = await run(count, dimension);
  results.push(result);
  console.log(
    `${count}×${dimension}: build ${result.buildSeconds} s · create ${result.createMs} ms ` +
      `(capture ${result.captureMs} incl. exportGraph ${result.captureGraphMs}, write ${result.writeMs} = encode ${result.encodeParquetMs} ` +
      `+ hash/write/fsync ${result.hashWriteSyncMs}) · restore ${result.restoreMs} ms ` +
      `(read+verify+decode ${result.readVerifyDecodeMs} incl. decode ${result.decodeParquetMs}, ` +
      `loadGraph ${result.loadGraphMs}) · ` +
      `restore/rebuild ${(result.restoreShareOfRebuild * 100).toFixed(2)} % · ` +
      `parquet ${(result.vectorsParquetBytes / 1e6).toFixed(1)} MB, graph ${
        (result.graphBinBytes / 1e6).toFixed(1)
      } MB · identical search ${result.identicalSearch}`,
  );
}

await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/snapshot.json", import.meta.url),
  JSON.stringify(
    {
      benchmark: "snapshot create/restore vs rebuild",
      date: new Date().toISOString(),
      machine: `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
      deno: Deno.version.deno,
      // Other work on the machine skews the timings; the 1/5/15-minute load at the end.
      loadAverage: Deno.loadavg(),
      seed: SEED,
      note:
        "createMs = captureMs (exportGraph + copying the live vectors out, as LiveIndex.capture " +
        "does; captureGraphMs: exportGraph alone) + writeMs; writeMs = encodeParquetMs (setup only: " +
        "the Parquet parts are produced lazily) + hashWriteSyncMs (the floats written straight from " +
        "the captured array while SHA-256 runs over them and the small ZSTD columns are encoded, " +
        "fsync, graph.bin, manifest, rename); restoreMs = readVerifyDecodeMs (read into one buffer, " +
        "SHA-256, decode: our layout is read directly and its floats viewed in place; " +
        "decodeParquetMs: the decode step alone, timed once more) + loadGraphMs; " +
        "buildSeconds = inserting the vectors one by one into an empty index (the rebuild)",
      results,
    },
    null,
    2,
  ) + "\n",
);
