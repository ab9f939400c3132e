import assert from "node:assert/strict";
import { prepareBatch } from "./point_validation.ts";

Deno.test("prepareBatch: private copies, last duplicate wins, metadata as JSON and object", () => {
  const shared = new Float32Array([1, 2]);
  const batch = prepareBatch(
    [
      { id: "a", vector: shared, metadata: { n: 1 } },
      { id: 7, vector: new Float32Array([3, 4]) },
      { id: "a", vector: new Float32Array([5, 6]), metadata: { n: 2 } },
    ],
    2,
    "l2",
  );
  shared.fill(0); // the caller reuses its array: the batch keeps what was written
  assert.deepEqual(batch.map((point) => point.id), [7, "a"]);
  assert.deepEqual([...batch[0]!.vector], [3, 4]);
  assert.deepEqual([...batch[1]!.vector], [5, 6]);
  assert.equal(batch[1]!.metadataJson, '{"n":2}');
  assert.deepEqual(batch[1]!.metadata, { n: 2 });
  assert.equal(batch[0]!.metadata, undefined);
});

Deno.test("prepareBatch: the first bad point is reported, by id, whatever is wrong with it", () => {
  const good = { id: 1, vector: new Float32Array([1, 0]) };
  const cases: [unknown, RegExp][] = [
    [{ id: "x", vector: new Float32Array([Number.NaN, 0]) }, /point "x": vector\[0\] is NaN/],
    [{ id: "x", vector: new Float32Array([0, Infinity]) }, /point "x": vector\[1\] is Infinity/],
    [{ id: "x", vector: new Float32Array([0, 0]) }, /point "x": vector has a zero norm/],
    [{ id: "x", vector: new Float32Array(3) }, /point "x": dimension is 3, expected 2/],
    [{ id: "x", vector: [1, 0] }, /point "x": vector must be a Float32Array/],
    [{ id: "x", vector: good.vector, metadata: [1] }, /point "x": metadata is an array/],
    [
      { id: "x", vector: good.vector, metadata: { s: "é".repeat(40_000) } },
      /point "x": metadata is \d+ bytes/,
    ],
    [{ id: "", vector: good.vector }, /id is 0 bytes/],
  ];
  for (const [bad, message] of cases) {
    // A later bad point does not hide an earlier one; an earlier good one does not matter.
    const later = { id: "y", vector: new Float32Array([Number.NaN, 0]) };
    assert.throws(() => prepareBatch([good, bad as never, later], 2, "cosine"), message);
  }
});
