import assert from "node:assert/strict";
import { BreakerState, CircuitBreaker, type CircuitBreakerOptions } from "./circuit_breaker.ts";
import { ObjectStoreError } from "./object_store_error.ts";

const OPTIONS: CircuitBreakerOptions = {
  windowSize: 4,
  callsMin: 3,
  failureRateThreshold: 0.5,
  cooldownMs: 1000,
};

type Step =
  | "ok" // a call that succeeds
  | "fail" // a call that fails with a retryable error
  | "miss" // a call that fails with a non-failure (404-like) error
  | "refused" // a call that must be refused without running
  | `wait ${number}` // advance the clock
  | "reset";

interface Row {
  readonly name: string;
  readonly steps: readonly Step[];
  readonly state: BreakerState;
  readonly transitions: readonly BreakerState[];
}

const { closed, open, halfOpen } = BreakerState;

const TABLE: readonly Row[] = [
  {
    name: "stays closed on success",
    steps: ["ok", "ok", "ok", "ok", "ok"],
    state: closed,
    transitions: [],
  },
  { name: "below callsMin never opens", steps: ["fail", "fail"], state: closed, transitions: [] },
  {
    name: "opens at the threshold with callsMin calls",
    steps: ["ok", "fail", "fail"],
    state: open,
    transitions: [open],
  },
  {
    name: "rate below the threshold stays closed",
    steps: ["ok", "ok", "fail", "ok", "ok", "ok", "fail"],
    state: closed,
    transitions: [],
  },
  {
    name: "the window slides: old failures age out",
    steps: ["fail", "ok", "ok", "ok", "ok", "ok", "fail", "ok"],
    state: closed,
    transitions: [],
  },
  {
    name: "non-failures (not found) do not count",
    steps: ["miss", "miss", "miss", "miss"],
    state: closed,
    transitions: [],
  },
  {
    name: "open refuses calls during the cooldown",
    steps: ["fail", "fail", "fail", "refused", "wait 999", "refused"],
    state: open,
    transitions: [open],
  },
  {
    name: "after the cooldown a probe success closes",
    steps: ["fail", "fail", "fail", "wait 1000", "ok"],
    state: closed,
    transitions: [open, halfOpen, closed],
  },
  {
    name: "a probe failure reopens for another cooldown",
    steps: ["fail", "fail", "fail", "wait 1000", "fail", "refused", "wait 1000", "ok"],
    state: closed,
    transitions: [open, halfOpen, open, halfOpen, closed],
  },
  {
    name: "closing empties the window",
    steps: ["ok", "fail", "fail", "wait 1000", "ok", "fail", "fail"],
    state: closed,
    transitions: [open, halfOpen, closed],
  },
  {
    name: "reset closes an open breaker",
    steps: ["fail", "fail", "fail", "reset", "ok"],
    state: closed,
    transitions: [open, closed],
  },
];

for (const row of TABLE) {
  Deno.test(`CircuitBreaker: ${row.name}`, async () => {
    let nowMs = 0;
    const transitions: BreakerState[] = [];
    const breaker = new CircuitBreaker(OPTIONS, {
      now: () => nowMs,
      onStateChange: (state) => void transitions.push(state),
    });
    for (const step of row.steps) {
      let ran = false;
      const run = (outcome: () => Promise<void>) =>
        breaker.execute(() => {
          ran = true;
          return outcome();
        });
      if (step === "ok") {
        await run(() => Promise.resolve());
        assert.ok(ran);
      } else if (step === "fail") {
        await assert.rejects(
          run(() => Promise.reject(new ObjectStoreError("x", { kind: "server" }))),
        );
        assert.ok(ran);
      } else if (step === "miss") {
        await assert.rejects(
          run(() => Promise.reject(new ObjectStoreError("x", { kind: "client" }))),
        );
      } else if (step === "refused") {
        await assert.rejects(
          run(() => Promise.resolve()),
          (error) => error instanceof ObjectStoreError && error.kind === "circuit_open",
        );
        assert.equal(ran, false);
      } else if (step === "reset") {
        breaker.reset();
      } else {
        nowMs += Number(step.slice("wait ".length));
      }
    }
    assert.equal(breaker.state, row.state);
    assert.deepEqual(transitions, row.transitions);
  });
}

Deno.test("CircuitBreaker: half-open lets exactly one probe through", async () => {
  let nowMs = 0;
  const breaker = new CircuitBreaker(OPTIONS, { now: () => nowMs });
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      breaker.execute(() => Promise.reject(new ObjectStoreError("x", { kind: "network" }))),
    );
  }
  nowMs = 1000;
  let finishProbe!: () => void;
  const probe = breaker.execute(() => new Promise<void>((resolve) => finishProbe = resolve));
  assert.equal(breaker.state, BreakerState.halfOpen);
  await assert.rejects(breaker.execute(() => Promise.resolve()), /probe is in flight/);
  finishProbe();
  await probe;
  assert.equal(breaker.state, BreakerState.closed);
});

Deno.test("CircuitBreaker: refuses out-of-range options", () => {
  assert.throws(() => new CircuitBreaker({ ...OPTIONS, windowSize: 0 }), RangeError);
  assert.throws(() => new CircuitBreaker({ ...OPTIONS, callsMin: 5 }), RangeError);
  assert.throws(() => new CircuitBreaker({ ...OPTIONS, failureRateThreshold: 0 }), RangeError);
  assert.throws(() => new CircuitBreaker({ ...OPTIONS, cooldownMs: -1 }), RangeError);
});
