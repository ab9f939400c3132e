import assert from "node:assert/strict";
import { NotFoundError } from "../../errors.ts";
import { ObjectStoreError } from "./object_store_error.ts";
import { backoffCapMs, checkRetryOptions, type RetryOptions, withRetry } from "./retry.ts";

const OPTIONS: RetryOptions = {
  attemptsMax: 5,
  delayMsBase: 100,
  delayMsMax: 1000,
  totalTimeMsMax: 10_000,
};

/** A fake clock whose sleep advances time and records each delay. */
function fakeTime() {
  let nowMs = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => nowMs,
    sleep: (ms: number) => {
      sleeps.push(ms);
      nowMs += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => void (nowMs += ms),
  };
}

const network = () => new ObjectStoreError("Cannot put object: network error", { kind: "network" });

Deno.test("backoffCapMs doubles from the base up to the cap", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 60].map((n) => backoffCapMs(OPTIONS, n)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
    1000,
  ]);
});

Deno.test("withRetry sleeps a full-jitter delay in [0, cap] before each retry", async () => {
  for (
    const [random, expected] of [[0, [0, 0, 0, 0]], [0.5, [50, 100, 200, 400]], [
      0.999999,
      [100, 200, 400, 800],
    ]] as const
  ) {
    const time = fakeTime();
    let calls = 0;
    await assert.rejects(
      withRetry(
        () => {
          calls++;
          return Promise.reject(network());
        },
        OPTIONS,
        { ...time, random: () => random },
      ),
      ObjectStoreError,
    );
    assert.equal(calls, 5);
    assert.deepEqual(time.sleeps, expected);
  }
});

Deno.test("withRetry returns the first success", async () => {
  const time = fakeTime();
  let calls = 0;
  const result = await withRetry(
    (attempt) => {
      calls++;
      return attempt < 3 ? Promise.reject(network()) : Promise.resolve("done");
    },
    OPTIONS,
    { ...time, random: () => 0.5 },
  );
  assert.equal(result, "done");
  assert.equal(calls, 3);
  assert.deepEqual(time.sleeps, [50, 100]);
});

Deno.test("withRetry does not retry not-found, client errors, an open breaker or bugs", async () => {
  const finals = [
    new NotFoundError("Cannot get object: no such object"),
    new ObjectStoreError("Cannot put object: client error", { kind: "client", statusCode: 403 }),
    new ObjectStoreError("Cannot call s3: circuit breaker open", { kind: "circuit_open" }),
    new TypeError("bug"),
  ];
  for (const error of finals) {
    const time = fakeTime();
    let calls = 0;
    await assert.rejects(
      withRetry(
        () => {
          calls++;
          return Promise.reject(error);
        },
        OPTIONS,
        time,
      ),
      (thrown) => thrown === error,
    );
    assert.equal(calls, 1, error.message);
    assert.deepEqual(time.sleeps, []);
  }
});

Deno.test("withRetry retries network, timeout, 5xx and throttling errors", async () => {
  for (const kind of ["network", "timeout", "server", "throttled"] as const) {
    let calls = 0;
    await assert.rejects(withRetry(
      () => {
        calls++;
        return Promise.reject(new ObjectStoreError("x", { kind }));
      },
      { ...OPTIONS, attemptsMax: 3 },
      fakeTime(),
    ));
    assert.equal(calls, 3, kind);
  }
});

Deno.test("withRetry stops when the next sleep would pass the total time budget", async () => {
  const time = fakeTime();
  let calls = 0;
  await assert.rejects(
    withRetry(
      () => {
        calls++;
        time.advance(300); // each attempt takes 300 ms
        return Promise.reject(network());
      },
      { ...OPTIONS, attemptsMax: 100, totalTimeMsMax: 2_000 },
      { ...time, random: () => 0.999999 },
    ),
    ObjectStoreError,
  );
  // 300 +100 +300 +200 +300 +400 +300 = 1900; the next sleep (800) would end at 2700 > 2000.
  assert.equal(calls, 4);
  assert.deepEqual(time.sleeps, [100, 200, 400]);
  assert.ok(time.now() <= 2_000 + 300);
});

Deno.test("checkRetryOptions refuses out-of-range bounds", () => {
  assert.throws(() => checkRetryOptions({ ...OPTIONS, attemptsMax: 0 }), RangeError);
  assert.throws(() => checkRetryOptions({ ...OPTIONS, delayMsMax: 50 }), RangeError);
  assert.throws(() => checkRetryOptions({ ...OPTIONS, totalTimeMsMax: -1 }), RangeError);
  assert.equal(checkRetryOptions(OPTIONS), OPTIONS);
});
