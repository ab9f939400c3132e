// LanceDB side of bench/ingest.ts, run under Node:
//   node bench/peers/lancedb_ingest.mjs <vectors.f32> <dimension> <batchPoints> <concurrency,…>
// Reads the same float32 batches AkiDB gets, appends them with `table.add` (one call per batch,
// `concurrency` calls in flight) to a fresh table in a temporary directory, and prints one JSON
// line with vectors/s per concurrency and the input checksum. Arrow tables are built before the
// clock starts (as the AkiDB side pre-serializes its JSON bodies).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

// LanceDB's dist is CommonJS and checks `instanceof arrow.Table`: load the very same (CJS)
// apache-arrow instance it uses, or it silently rebuilds the batches and may drop rows.
const require = createRequire(import.meta.url);
const arrow = require("apache-arrow");
const lancedb = require("@lancedb/lancedb");

const [path, dimText, batchText, concurrencyText] = process.argv.slice(2);
if (!path || !dimText || !batchText || !concurrencyText) {
  console.error("usage: node lancedb_ingest.mjs <vectors.f32> <dimension> <batchPoints> <c1,c2,…>");
  process.exit(2);
}
const dim = Number(dimText);
const batchPoints = Number(batchText);
const concurrencies = concurrencyText.split(",").map(Number);
const bytes = readFileSync(path);
const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const count = all.length / dim;

/** Same checksum as bench/ingest.ts: sum of every value, in float64, in order. */
let checksum = 0;
for (let i = 0; i < all.length; i++) checksum += all[i];

const listType = new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true));
const schema = new arrow.Schema([
  new arrow.Field("id", new arrow.Int32(), false),
  new arrow.Field("vector", listType, false),
]);

function batchTable(first, rows) {
  const values = all.slice(first * dim, (first + rows) * dim);
  const child = arrow.makeData({ type: new arrow.Float32(), length: rows * dim, data: values });
  const vectors = arrow.makeData({ type: listType, length: rows, nullCount: 0, child });
  const idValues = Int32Array.from({ length: rows }, (_, i) => first + i);
  const ids = arrow.makeData({ type: new arrow.Int32(), length: rows, data: idValues });
  const struct = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length: rows,
    nullCount: 0,
    children: [ids, vectors],
  });
  return new arrow.Table(schema, new arrow.RecordBatch(schema, struct));
}

const tables = [];
for (let first = 0; first < count; first += batchPoints) {
  tables.push(batchTable(first, Math.min(batchPoints, count - first)));
}

const runs = [];
for (const concurrency of concurrencies) {
  const dir = mkdtempSync(join(tmpdir(), "akidb-lancedb-"));
  try {
    const db = await lancedb.connect(dir);
    const table = await db.createEmptyTable("bench", schema);
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < tables.length) await table.add(tables[next++]);
    }));
    const seconds = (performance.now() - started) / 1000;
    const rows = await table.countRows();
    if (rows !== count) throw new Error(`LanceDB holds ${rows} rows, added ${count}`);
    runs.push({
      concurrency,
      points: count,
      seconds,
      vectors_per_second: Math.round(count / seconds),
    });
    console.error(
      `lancedb: ${concurrency} concurrent add: ${Math.round(count / seconds)} vectors/s`,
    );
    table.close();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify({ checksum, count, dim, runs }));
