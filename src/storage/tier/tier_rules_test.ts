import assert from "node:assert/strict";
import { planTransitions, type TierCandidate, type TierRules } from "./tier_rules.ts";

const RULES: TierRules = {
  hotToWarmIdleMs: 1_000,
  warmToColdIdleMs: 10_000,
  hotMemoryBudgetBytes: 0,
  coldEnabled: true,
};

function hot(id: string, lastAccessedAtMs: number, memoryBytes = 100, pinned = false) {
  return { id, tier: "hot", pinned, lastAccessedAtMs, memoryBytes } satisfies TierCandidate;
}

Deno.test("idle rules: hot→warm after hot_to_warm_idle_ms, warm→cold after warm_to_cold_idle_ms", () => {
  const warm = {
    id: "w",
    tier: "warm",
    pinned: false,
    lastAccessedAtMs: 0,
    memoryBytes: 0,
  } as const;
  assert.deepEqual(planTransitions([hot("h", 0), warm], RULES, 999), []);
  assert.deepEqual(planTransitions([hot("h", 0), warm], RULES, 1_000).map((t) => t.id), ["h"]);
  assert.deepEqual(
    planTransitions([hot("h", 0), warm], RULES, 10_000).map((t) => [t.id, t.to]),
    [["h", "warm"], ["w", "cold"]],
  );
});

Deno.test("no cold tier without S3, and 0 turns a rule off", () => {
  const warm = {
    id: "w",
    tier: "warm",
    pinned: false,
    lastAccessedAtMs: 0,
    memoryBytes: 0,
  } as const;
  assert.deepEqual(planTransitions([warm], { ...RULES, coldEnabled: false }, 1e9), []);
  assert.deepEqual(planTransitions([hot("h", 0)], { ...RULES, hotToWarmIdleMs: 0 }, 1e9), []);
});

Deno.test("pinned collections are never demoted, by idleness or by budget", () => {
  const rules = { ...RULES, hotMemoryBudgetBytes: 50 };
  assert.deepEqual(planTransitions([hot("p", 0, 100, true)], rules, 1e9), []);
});

Deno.test("memory budget demotes the least recently used unpinned hot collections", () => {
  const rules = { ...RULES, hotToWarmIdleMs: 0, hotMemoryBudgetBytes: 250 };
  const plan = planTransitions(
    [hot("new", 300), hot("old", 100), hot("mid", 200), hot("pin", 50, 100, true)],
    rules,
    400,
  );
  assert.deepEqual(plan.map((t) => [t.id, t.reason]), [["old", "memory_budget"], [
    "mid",
    "memory_budget",
  ]]);
});

Deno.test("memory budget never evicts the most recently used collection (no thrash)", () => {
  const rules = { ...RULES, hotToWarmIdleMs: 0, hotMemoryBudgetBytes: 50 };
  assert.deepEqual(planTransitions([hot("only", 0, 100)], rules, 1), []);
  assert.deepEqual(
    planTransitions([hot("old", 0, 100), hot("new", 5, 100)], rules, 6).map((t) => t.id),
    ["old"],
  );
});
