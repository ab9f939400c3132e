/**
 * The S3 object store against a real S3 protocol server (s3rver, or MinIO via
 * `AKIDB_TEST_S3_ENDPOINT`): round trips, multipart, byte-exact downloads.
 */

import assert from "node:assert/strict";
import { NotFoundError } from "../src/errors.ts";
import {
  objectKeyPrefix,
  S3ObjectStore,
  snapshotObjectKey,
} from "../src/storage/objectstore/mod.ts";
import { seededRandom, testSeed } from "./support/seeded_random.ts";
import { startS3Server } from "./support/s3_server.ts";

const MiB = 1024 * 1024;

function randomBytes(random: () => number, sizeBytes: number): Uint8Array {
  const bytes = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i += 4) {
    const word = (random() * 0x1_0000_0000) >>> 0;
    bytes[i] = word & 0xff;
    if (i + 1 < sizeBytes) bytes[i + 1] = (word >>> 8) & 0xff;
    if (i + 2 < sizeBytes) bytes[i + 2] = (word >>> 16) & 0xff;
    if (i + 3 < sizeBytes) bytes[i + 3] = word >>> 24;
  }
  return bytes;
}

Deno.test({
  name: "S3ObjectStore: put/get/head/list/delete round trip and a 12 MiB multipart upload",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const random = seededRandom(testSeed("objectstore round trip"));
    const server = await startS3Server();
    const directory = await Deno.makeTempDir({ prefix: "akidb-objectstore-" });
    const prefix = `test-${crypto.randomUUID()}`;
    const store = new S3ObjectStore({
      endpoint: server.endpoint,
      region: "us-east-1",
      bucket: server.bucket,
      prefix,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      forcePathStyle: true,
    }, { multipartThresholdBytes: 6 * MiB, partSizeBytes: 5 * MiB, operationTimeoutMs: 10_000 });
    const timer = setTimeout(() => {
      console.error("round trip test took longer than 60 s");
      Deno.exit(1);
    }, 60_000);
    try {
      const collectionId = crypto.randomUUID();
      const manifestKey = snapshotObjectKey(collectionId, "s1", "manifest.json");
      const graphKey = snapshotObjectKey(collectionId, "s1", "graph.bin");
      const vectorsKey = snapshotObjectKey(collectionId, "s1", "vectors.parquet");
      const manifest = new TextEncoder().encode(JSON.stringify({ lsn: 42 }));
      const graph = randomBytes(random, 100_000);

      assert.equal(await store.head(manifestKey), undefined);
      await assert.rejects(store.get(manifestKey), NotFoundError);
      await store.put(manifestKey, manifest);
      await store.put(graphKey, graph);
      assert.deepEqual(await store.get(manifestKey), manifest);
      assert.deepEqual(await store.get(graphKey), graph);
      assert.deepEqual(await store.head(graphKey), { sizeBytes: graph.length });

      // 12 MiB in 5 MiB parts: three parts through lib-storage, downloaded byte for byte.
      const big = randomBytes(random, 12 * MiB + 123);
      const bigPath = `${directory}/vectors.parquet`;
      await Deno.writeFile(bigPath, big);
      const startedMs = performance.now();
      await store.putFile(vectorsKey, bigPath);
      console.log(`multipart upload 12 MiB: ${(performance.now() - startedMs).toFixed(0)} ms`);
      assert.deepEqual(await store.head(vectorsKey), { sizeBytes: big.length });
      const downloadPath = `${directory}/download.parquet`;
      await store.getToFile(vectorsKey, downloadPath);
      assert.deepEqual(await Deno.readFile(downloadPath), big);
      await assert.rejects(Deno.stat(`${downloadPath}.part`), Deno.errors.NotFound);
      assert.deepEqual(await store.get(vectorsKey), big);

      // A small file goes up in one request.
      const smallPath = `${directory}/graph.bin`;
      await Deno.writeFile(smallPath, graph.subarray(0, 1000));
      const otherGraphKey = snapshotObjectKey(collectionId, "s2", "graph.bin");
      await store.putFile(otherGraphKey, smallPath);
      assert.deepEqual(await store.get(otherGraphKey), graph.subarray(0, 1000));

      const listed = await store.list(objectKeyPrefix(collectionId));
      assert.deepEqual(listed.map((entry) => entry.key), [
        graphKey,
        manifestKey,
        vectorsKey,
        otherGraphKey,
      ]);
      assert.deepEqual(
        (await store.list(objectKeyPrefix(collectionId, "s2"))).map((entry) => entry.sizeBytes),
        [1000],
      );

      await store.delete(graphKey);
      await store.delete(graphKey); // deleting an absent object succeeds
      assert.equal(await store.head(graphKey), undefined);
      await assert.rejects(store.getToFile(graphKey, `${directory}/absent`), NotFoundError);
      await assert.rejects(Deno.stat(`${directory}/absent.part`), Deno.errors.NotFound);
      assert.equal((await store.list(objectKeyPrefix(collectionId))).length, 3);
    } finally {
      clearTimeout(timer);
      store.close();
      await server.stop();
      await Deno.remove(directory, { recursive: true });
    }
  },
});
