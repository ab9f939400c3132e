/**
 * The benchmarks' open-loop generator: it sends on time (the timer's lateness is not charged to
 * the server) and still charges every delay it could not avoid (coordinated omission counted).
 */

import assert from "node:assert/strict";
import { openLoop } from "../bench/lib/load.ts";

Deno.test("openLoop sends every scheduled request and reports its send lag", async () => {
  const result = await openLoop(100, 400, () => Promise.resolve());
  assert.equal(result.scheduled, 40);
  assert.equal(result.completed, 40);
  assert.equal(result.dropped, 0);
  // How close to the schedule it sends is the machine's business (a wall-clock bound here failed
  // under parallel tests); the benchmarks report it as sendLagP50Ms / sendLagP99Ms.
  for (const lag of [result.sendLagP50Ms, result.sendLagP99Ms, result.sendLagMaxMs]) {
    assert.ok(Number.isFinite(lag) && lag >= 0, `send lag ${lag}`);
  }
});

Deno.test("openLoop charges a stall to every request scheduled during it", async () => {
  const stallMs = 60;
  const result = await openLoop(200, 200, (index) => {
    if (index === 0) {
      const until = performance.now() + stallMs;
      while (performance.now() < until) {
        // blocks the event loop: requests 1… cannot be sent on time
      }
    }
    return Promise.resolve();
  });
  assert.equal(result.completed, 40);
  assert.equal(result.dropped, 0);
  // Request 1 was due 5 ms after request 0 but could only leave after the stall.
  assert.ok(result.sendLagMaxMs >= stallMs - 10, `send lag max ${result.sendLagMaxMs} ms`);
  assert.ok(result.latency.maxMs >= stallMs - 10, `latency max ${result.latency.maxMs} ms`);
});
