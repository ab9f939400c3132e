/**
 * An S3 outage through a TCP fault proxy in front of a real S3 server: the
 * upload queue keeps accepting writes and never fails a caller, the breaker
 * opens, the dead-letter queue fills and survives a reopen of its database;
 * once the proxy passes again, `retryAll` drains it to zero and the bucket
 * holds exactly the expected objects, byte for byte.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  BreakerState,
  DeadLetterQueue,
  type ObjectKey,
  objectKeyPrefix,
  type ObjectStoreObserver,
  ResilientObjectStore,
  S3ObjectStore,
  SNAPSHOT_FILE_NAMES,
  snapshotObjectKey,
  UploadQueue,
  type UploadRequest,
} from "../src/storage/objectstore/mod.ts";
import { seededRandom, testSeed } from "./support/seeded_random.ts";
import { startS3Server } from "./support/s3_server.ts";
import { startTcpFaultProxy } from "./support/tcp_fault_proxy.ts";

const TEST_TIMEOUT_MS = 90_000;

function recordingObserver() {
  const states: BreakerState[] = [];
  const dlqSizes: number[] = [];
  const operations = { ok: 0, error: 0 };
  const observer: ObjectStoreObserver = {
    onOperation: (_operation, status) => void operations[status]++,
    onBreakerState: (state) => void states.push(state),
    onDlqSize: (size) => void dlqSizes.push(size),
  };
  return { observer, states, dlqSizes, operations };
}

Deno.test({
  name: "S3 outage: writes are accepted, the breaker opens, the DLQ fills, retryAll drains it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const random = seededRandom(testSeed("objectstore outage"));
    const guard = setTimeout(() => {
      console.error(`outage test took longer than ${TEST_TIMEOUT_MS} ms`);
      Deno.exit(1);
    }, TEST_TIMEOUT_MS);
    const server = await startS3Server();
    const proxy = startTcpFaultProxy(server.port);
    const directory = await Deno.makeTempDir({ prefix: "akidb-outage-" });
    const dbPath = `${directory}/catalog.sqlite`;
    let db = new DatabaseSync(dbPath);
    const s3 = new S3ObjectStore({
      endpoint: proxy.endpoint,
      region: "us-east-1",
      bucket: server.bucket,
      prefix: `outage-${crypto.randomUUID()}`,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      forcePathStyle: true,
    }, { operationTimeoutMs: 1_000, connectTimeoutMs: 500, socketIdleTimeoutMs: 1_000 });
    const recorded = recordingObserver();
    const store = new ResilientObjectStore(s3, {
      retry: { attemptsMax: 3, delayMsBase: 20, delayMsMax: 100, totalTimeMsMax: 2_000 },
      breaker: { windowSize: 10, callsMin: 4, failureRateThreshold: 0.5, cooldownMs: 300 },
      observer: recorded.observer,
    });
    try {
      const expected = new Map<ObjectKey, Uint8Array>();
      let snapshotNumber = 0;
      const nextRequests = async (count: number): Promise<UploadRequest[]> => {
        const requests: UploadRequest[] = [];
        for (let i = 0; i < count; i++) {
          const fileName = SNAPSHOT_FILE_NAMES[i % SNAPSHOT_FILE_NAMES.length]!;
          const key = snapshotObjectKey(crypto.randomUUID(), `s${snapshotNumber++}`, fileName);
          const bytes = new Uint8Array(1 + Math.floor(random() * 4096)).map(() => random() * 256);
          expected.set(key, bytes);
          if (i % 2 === 0) {
            requests.push({ operation: "put", key, bytes });
          } else {
            const path = `${directory}/upload-${snapshotNumber}.bin`;
            await Deno.writeFile(path, bytes);
            requests.push({ operation: "put_file", key, path });
          }
        }
        return requests;
      };
      let dlq = new DeadLetterQueue(db, { observer: recorded.observer });
      let queue = new UploadQueue(store, dlq, { concurrency: 4 });

      // Healthy: everything goes up.
      const healthy = await queue.enqueueBatch(await nextRequests(6));
      assert.deepEqual(healthy.map((o) => o.status), Array(6).fill("uploaded"));
      assert.equal(store.breaker.state, BreakerState.closed);

      // Outage, refused connections: accepted, dead-lettered, breaker opens.
      proxy.setMode("reset");
      proxy.setMode("drop");
      let startedMs = performance.now();
      const dropped = await queue.enqueueBatch(await nextRequests(20));
      console.log(`drop: 20 writes settled in ${(performance.now() - startedMs).toFixed(0)} ms`);
      assert.deepEqual(dropped.map((o) => o.status), Array(20).fill("dead_lettered"));
      assert.equal(store.breaker.state, BreakerState.open);
      assert.ok(recorded.states.includes(BreakerState.open));
      assert.equal(dlq.size, 20);

      // Outage, stalled connections: every attempt times out; still never fails a caller.
      proxy.setMode("stall");
      store.breaker.reset();
      startedMs = performance.now();
      const stalled = await queue.enqueueBatch(await nextRequests(6));
      console.log(`stall: 6 writes settled in ${(performance.now() - startedMs).toFixed(0)} ms`);
      assert.deepEqual(stalled.map((o) => o.status), Array(6).fill("dead_lettered"));
      assert.equal(store.breaker.state, BreakerState.open);
      assert.equal(dlq.size, 26);
      assert.ok(dlq.list().slice(-6).some((entry) => /timed out/.test(entry.lastError)));
      assert.equal(recorded.dlqSizes.at(-1), 26);
      await queue.close();

      // Restart: the DLQ survives a reopen of its database.
      const before = dlq.list();
      db.close();
      db = new DatabaseSync(dbPath);
      dlq = new DeadLetterQueue(db, { observer: recorded.observer });
      queue = new UploadQueue(store, dlq, { concurrency: 4 });
      assert.deepEqual(dlq.list(), before);
      assert.ok(before.every((entry) => entry.lastFailureAtMs >= entry.firstFailureAtMs));

      // Still down: retryAll really retries and reports failures.
      proxy.setMode("drop");
      await new Promise((resolve) => setTimeout(resolve, 350)); // past the cooldown
      const failedReport = await queue.retryDeadLetters();
      assert.equal(failedReport.succeeded, 0);
      assert.equal(failedReport.failed, 26);
      assert.equal(failedReport.remaining, 26);

      // Recovery: after the cooldown, the first replay probes, then the rest drain.
      proxy.setMode("pass");
      await new Promise((resolve) => setTimeout(resolve, 350));
      const report = await queue.retryDeadLetters();
      assert.deepEqual(report, { succeeded: 26, failed: 0, remaining: 0 });
      assert.equal(store.breaker.state, BreakerState.closed);
      assert.equal(dlq.size, 0);
      assert.equal(recorded.dlqSizes.at(-1), 0);

      // The bucket holds exactly the expected objects, byte for byte.
      const listed = await store.list(objectKeyPrefix());
      assert.deepEqual(listed.map((entry) => entry.key).sort(), [...expected.keys()].sort());
      for (const [key, bytes] of expected) assert.deepEqual(await store.get(key), bytes);
      assert.ok(recorded.operations.error > 0 && recorded.operations.ok > 0);
    } finally {
      clearTimeout(guard);
      s3.close();
      db.close();
      await proxy.close();
      await server.stop();
      await Deno.remove(directory, { recursive: true });
    }
  },
});
