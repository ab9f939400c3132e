import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { randomVector, seededRandom, testSeed } from "../../../tests/support/seeded_random.ts";
import { CorruptionError } from "../../errors.ts";
import {
  decodeVectorsParquet,
  encodeVectorsParquet,
  encodeVectorsParquetParts,
  type SnapshotRows,
} from "./vectors_parquet.ts";
import { concatBytes } from "../../bytes.ts";

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
  // Arrow readers get the column types back from the footer's Arrow schema.
  assert.equal(String(table.schema.fields[2]?.type), "FixedSizeList[3]<Float32>");
  const props = new pq.WriterPropertiesBuilder().setMaxRowGroupSize(2).build();
  const bytes = pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), props);
  const back = decodeVectorsParquet(bytes, 3, "t.parquet");
  assert.deepEqual(back.ids, rows.ids);
  assert.deepEqual(back.metadata, rows.metadata);
  assert.deepEqual(Array.from(back.vectors), Array.from(rows.vectors));
});

/** The file as the writer of earlier versions made it: Arrow table → parquet-wasm. */
function parquetWasmFile(source: SnapshotRows, dimension: number): Uint8Array {
  const vectorType = new arrow.FixedSizeList(
    dimension,
    new arrow.Field("item", new arrow.Float32(), false),
  );
  const columns = {
    id: arrow.vectorFromArray(source.ids.map(String), new arrow.Utf8()),
    id_int: arrow.vectorFromArray(
      source.ids.map((id) => (typeof id === "number" ? BigInt(id) : null)),
      new arrow.Int64(),
    ),
    vector: arrow.makeVector(
      arrow.makeData({
        type: vectorType,
        length: source.ids.length,
        nullCount: 0,
        child: arrow.makeData({
          type: new arrow.Float32(),
          length: source.vectors.length,
          data: source.vectors,
        }),
      }),
    ),
    metadata: arrow.vectorFromArray(source.metadata.map((text) => text ?? null), new arrow.Utf8()),
  };
  const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.ZSTD).build();
  return pq.writeParquet(
    pq.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(columns), "stream")),
    props,
  );
}

Deno.test("vectors.parquet of earlier versions (parquet-wasm's layout) still decodes", () => {
  const back = decodeVectorsParquet(parquetWasmFile(rows, 3), 3, "old.parquet");
  assert.deepEqual(back.ids, rows.ids);
  assert.deepEqual(back.metadata, rows.metadata);
  assert.deepEqual(Array.from(back.vectors), Array.from(rows.vectors));
});

Deno.test("vectors.parquet: one page is viewed in place, several pages are joined", () => {
  const seed = testSeed("vectors.parquet pages");
  const random = seededRandom(seed);
  for (const dimension of [1, 2, 5, 16]) {
    const count = 37;
    const many: SnapshotRows = {
      ids: Array.from({ length: count }, (_, i) => (i % 3 === 0 ? i : `p-${i}`)),
      vectors: Float32Array.from(
        Array.from({ length: count }, () => Array.from(randomVector(random, dimension))).flat(),
      ),
      metadata: Array.from({ length: count }, (_, i) => (i % 4 === 0 ? undefined : `{"i":${i}}`)),
    };
    for (const pageBytes of [2 ** 30, 4 * dimension * 5, 1]) {
      const bytes = concatBytes([...encodeVectorsParquetParts(many, dimension, pageBytes)]);
      const back = decodeVectorsParquet(bytes, dimension, "t.parquet");
      const label = `seed ${seed}, dimension ${dimension}, page bytes ${pageBytes}`;
      assert.deepEqual(back.ids, many.ids, label);
      assert.deepEqual(back.metadata, many.metadata, label);
      assert.deepEqual(Array.from(back.vectors), Array.from(many.vectors), label);
      if (pageBytes === 2 ** 30 && count * dimension > 56) {
        assert.equal(back.vectors.buffer, bytes.buffer, `${label}: not a view`);
      }
      // parquet-wasm (the fallback) reads the same rows from our layout.
      const table = arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream());
      assert.equal(table.numRows, count, label);
    }
  }
});

Deno.test("vectors.parquet: an empty file round-trips", () => {
  const empty = { ids: [], vectors: new Float32Array(0), metadata: [] };
  const back = decodeVectorsParquet(encodeVectorsParquet(empty, 4), 4, "t.parquet");
  assert.deepEqual(back, { ids: [], vectors: new Float32Array(0), metadata: [] });
});

Deno.test("vectors.parquet: our layout with a wrong dimension is refused", () => {
  assert.throws(
    () => decodeVectorsParquet(encodeVectorsParquet(rows, 3), 2, "t.parquet"),
    (error: unknown) => error instanceof CorruptionError && /t\.parquet/.test(error.message),
  );
});
