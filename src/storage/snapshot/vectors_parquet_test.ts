import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { decodeVectorsParquet, encodeVectorsParquet } from "./vectors_parquet.ts";

const rows = {
  ids: ["a", 7, "7", "ü-日本", 0, "x".repeat(300)],
  vectors: Float32Array.from({ length: 6 * 3 }, (_, i) => (i % 5 === 0 ? -0 : i / 7)),
  metadata: [undefined, '{"k":"ñ"}', "{}", undefined, '{"a":[1,2]}', undefined],
};

Deno.test("vectors.parquet round-trips ids (string/int, non-ASCII), nulls and float bits", () => {
  const back = decodeVectorsParquet(encodeVectorsParquet(rows, 3), 3, "t.parquet");
  assert.deepEqual(back.ids, rows.ids);
  assert.deepEqual(back.metadata, rows.metadata);
  assert.deepEqual(
    new Uint32Array(back.vectors.slice().buffer),
    new Uint32Array(rows.vectors.slice().buffer),
  );
});

Deno.test("vectors.parquet: only the vector floats are uncompressed", async () => {
  const bytes = encodeVectorsParquet(rows, 3);
  const file = await pq.ParquetFile.fromFile(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  const codecs = Object.fromEntries(
    file.metadata().rowGroup(0).columns().map((column) => [
      column.columnPath().join("."),
      pq.Compression[column.compression()],
    ]),
  );
  assert.deepEqual(codecs, {
    id: "ZSTD",
    id_int: "ZSTD",
    "vector.list.item": "UNCOMPRESSED",
    metadata: "ZSTD",
  });
});

Deno.test("vectors.parquet: a file of several row groups decodes in order", () => {
  // Re-write an encoded file with 2-row row groups: rows cross row groups.
  const table = arrow.tableFromIPC(
    pq.readParquet(encodeVectorsParquet(rows, 3)).intoIPCStream(),
  );
  const props = new pq.WriterPropertiesBuilder().setMaxRowGroupSize(2).build();
  const bytes = pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), props);
  const back = decodeVectorsParquet(bytes, 3, "t.parquet");
  assert.deepEqual(back.ids, rows.ids);
  assert.deepEqual(back.metadata, rows.metadata);
  assert.deepEqual(Array.from(back.vectors), Array.from(rows.vectors));
});
