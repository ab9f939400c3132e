import assert from "node:assert/strict";
import {
  objectKeyPrefix,
  parseObjectKey,
  SNAPSHOT_FILE_NAMES,
  snapshotObjectKey,
  toObjectKey,
} from "./object_key.ts";

const ID = "0192f0a8-6a8e-7c1f-9c1e-0a1b2c3d4e5f";

Deno.test("snapshotObjectKey builds the DESIGN.md layout and round-trips through parse", () => {
  for (const fileName of SNAPSHOT_FILE_NAMES) {
    const key = snapshotObjectKey(ID, "00000000000000000042", fileName);
    assert.equal(key, `collections/${ID}/snapshots/00000000000000000042/${fileName}`);
    assert.deepEqual(parseObjectKey(key), {
      collectionId: ID,
      snapshotId: "00000000000000000042",
      fileName,
    });
    assert.equal(toObjectKey(key), key);
  }
  assert.equal(objectKeyPrefix(ID), `collections/${ID}/snapshots/`);
  assert.equal(objectKeyPrefix(ID, "s-1"), `collections/${ID}/snapshots/s-1/`);
});

Deno.test("snapshotObjectKey refuses every segment that could escape or is not ours", () => {
  const badCollections = [
    "",
    "..",
    "../x",
    `${ID}/..`,
    ID.toUpperCase(),
    `${ID} `,
    "a/b",
    "x%2F..",
  ];
  const badSnapshots = [
    "",
    ".",
    "..",
    "a/b",
    "-x",
    "_x",
    "a".repeat(65),
    "a\\b",
    "a b",
    "é",
    "a\0",
  ];
  const badFiles = ["", "..", "graph.bin/..", "../graph.bin", "wal.wal", "GRAPH.BIN", "graph.bin "];
  for (const id of badCollections) {
    assert.throws(() => snapshotObjectKey(id, "s", "graph.bin"), TypeError, id);
  }
  for (const id of badSnapshots) {
    assert.throws(() => snapshotObjectKey(ID, id, "graph.bin"), TypeError, id);
  }
  for (const name of badFiles) {
    assert.throws(() => snapshotObjectKey(ID, "s", name), TypeError, name);
  }
  for (const id of badCollections) assert.throws(() => objectKeyPrefix(id), TypeError);
  for (const id of badSnapshots) assert.throws(() => objectKeyPrefix(ID, id), TypeError);
});

Deno.test("parseObjectKey rejects foreign and malformed keys", () => {
  for (
    const text of [
      "",
      `collections/${ID}/snapshots/s/graph.bin/x`,
      `collections/${ID}/wal/s/graph.bin`,
      `x/${ID}/snapshots/s/graph.bin`,
      `collections/${ID}/snapshots/../graph.bin`,
      `/collections/${ID}/snapshots/s/graph.bin`,
    ]
  ) {
    assert.equal(parseObjectKey(text), undefined, text);
    assert.throws(() => toObjectKey(text), TypeError);
  }
});
