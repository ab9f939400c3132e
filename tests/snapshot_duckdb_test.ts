/**
 * An independent reader: DuckDB (npm `@duckdb/node-api`, loaded under Deno)
 * opens a snapshot's `vectors.parquet` (written by our own Parquet writer) and
 * sees the row count, the ids of both kinds, every vector bit for bit, every
 * metadata text and the `id_int` statistics.
 */

import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { DiskFileIO } from "../src/storage/disk_file_io.ts";
import { writeSnapshot } from "../src/storage/snapshot/mod.ts";
import { bitsOf, buildFixture } from "./snapshot_support.ts";

Deno.test("DuckDB reads vectors.parquet: row count, ids, every vector and metadata", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akidb-duckdb-" });
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const dimension = 12;
    const { input } = await buildFixture(11, {
      count: 400,
      tailCount: 6,
      dimension,
      metric: "l2",
    });
    const manifest = await writeSnapshot(new DiskFileIO(), dir, input);
    const file = `${dir}/snapshots/${manifest.snapshot_id}/vectors.parquet`;
    const from = `read_parquet('${file.replaceAll("'", "''")}')`;

    const counted = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(id_int)::INTEGER AS ints, count(metadata)::INTEGER AS m
       FROM ${from}`,
    );
    const [summary] = counted.getRowObjectsJson();
    const ids = input.rows.ids;
    assert.equal(summary?.n, ids.length);
    assert.equal(summary?.ints, ids.filter((id) => typeof id === "number").length);
    assert.equal(summary?.m, input.rows.metadata.filter((m) => m !== undefined).length);

    // Every row, in file order: ids of both kinds, each vector bit for bit, each metadata text.
    const all = await connection.runAndReadAll(
      `SELECT id, id_int::VARCHAR AS id_int, vector, metadata FROM ${from}`,
    );
    const rows = all.getRowObjectsJson();
    assert.deepEqual(
      rows.map((row) => (row.id_int === null ? row.id : Number(row.id_int))),
      ids,
    );
    const floats = new Float32Array(rows.flatMap((row) => (row.vector as number[]).map(Number)));
    const got = bitsOf(floats);
    const expected = bitsOf(input.rows.vectors);
    assert.equal(got.byteLength, expected.byteLength);
    const differs = got.findIndex((byte, i) => byte !== expected[i]);
    assert.equal(differs, -1, `vector bytes differ from byte ${differs}`);
    assert.deepEqual(rows.map((row) => row.metadata ?? undefined), input.rows.metadata);

    // id_int carries min/max statistics for SQL readers.
    const stats = await connection.runAndReadAll(
      `SELECT stats_min, stats_max, stats_min_value, stats_max_value,
              stats_null_count::INTEGER AS nulls
       FROM parquet_metadata('${file.replaceAll("'", "''")}') WHERE path_in_schema = 'id_int'`,
    );
    const integers = ids.filter((id): id is number => typeof id === "number");
    assert.deepEqual(stats.getRowObjectsJson()[0], {
      stats_min: String(Math.min(...integers)),
      stats_max: String(Math.max(...integers)),
      stats_min_value: String(Math.min(...integers)),
      stats_max_value: String(Math.max(...integers)),
      nulls: ids.length - integers.length,
    });

    const row = 5;
    const wanted = input.rows.vectors.subarray(row * dimension, (row + 1) * dimension);
    const picked = await connection.runAndReadAll(
      `SELECT vector, len(vector)::INTEGER AS dim, metadata FROM ${from} WHERE id = '${
        String(ids[row])
      }'`,
    );
    const [hit] = picked.getRowObjectsJson();
    assert.equal(hit?.dim, dimension);
    assert.deepEqual(new Float32Array((hit?.vector as number[]).map(Number)), wanted);
    assert.equal(hit?.metadata ?? undefined, input.rows.metadata[row]);

    const tagged = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n FROM ${from} WHERE json_extract_string(metadata, '$.tag') = 't0'`,
    );
    const expectedTagged = input.rows.metadata.filter((m) =>
      m !== undefined && JSON.parse(m).tag === "t0"
    ).length;
    assert.equal(tagged.getRowObjectsJson()[0]?.n, expectedTagged);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await Deno.remove(dir, { recursive: true });
  }
});
