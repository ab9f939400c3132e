/**
 * The tier rules, pure: given every collection's tier, pin, last access and
 * index memory, which demotions are due now. Promotion is not a rule: it
 * happens on access. The orchestration (locks, snapshots, S3) lives in
 * `src/engine/tier_manager.ts`; the reasoning behind the thresholds in
 * `docs/TIERING-TUNING-GUIDE.md`.
 *
 * @module
 */

/** A collection's tier: hot (in memory), warm (local snapshot only), cold (S3 only). */
export type TierName = "hot" | "warm" | "cold";

/** What the rules look at for one collection. */
export interface TierCandidate {
  readonly id: string;
  readonly tier: TierName;
  readonly pinned: boolean;
  /** ms since the epoch. */
  readonly lastAccessedAtMs: number;
  /** Index memory while hot; 0 otherwise. */
  readonly memoryBytes: number;
}

/** The thresholds (0 turns a rule off). */
export interface TierRules {
  readonly hotToWarmIdleMs: number;
  readonly warmToColdIdleMs: number;
  readonly hotMemoryBudgetBytes: number;
  /** Whether a cold tier exists (S3 configured). */
  readonly coldEnabled: boolean;
}

/** One demotion to carry out. */
export interface TierTransition {
  readonly id: string;
  readonly from: TierName;
  readonly to: "warm" | "cold";
  readonly reason: "idle" | "memory_budget";
}

/**
 * The demotions due now: idle hot → warm, idle warm → cold, then, while the
 * hot collections left exceed the memory budget, the least recently used
 * unpinned ones → warm (never the most recently used one). Pinned
 * collections are never demoted.
 *
 * @param candidates every collection
 * @param rules the thresholds
 * @param nowMs ms since the epoch
 * @returns the transitions, idle ones first
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planTransitions } from "./tier_rules.ts";
 * const rules = { hotToWarmIdleMs: 1000, warmToColdIdleMs: 5000, hotMemoryBudgetBytes: 0, coldEnabled: true };
 * const plan = planTransitions([
 *   { id: "a", tier: "hot", pinned: false, lastAccessedAtMs: 0, memoryBytes: 10 },
 *   { id: "b", tier: "hot", pinned: true, lastAccessedAtMs: 0, memoryBytes: 10 },
 *   { id: "c", tier: "warm", pinned: false, lastAccessedAtMs: 0, memoryBytes: 0 },
 * ], rules, 6000);
 * assert.deepEqual(plan.map((t) => [t.id, t.to]), [["a", "warm"], ["c", "cold"]]);
 * ```
 */
export function planTransitions(
  candidates: readonly TierCandidate[],
  rules: TierRules,
  nowMs: number,
): TierTransition[] {
  const plan: TierTransition[] = [];
  const idleFor = (c: TierCandidate) => nowMs - c.lastAccessedAtMs;
  const stillHot: TierCandidate[] = [];
  for (const c of candidates) {
    if (c.pinned) {
      if (c.tier === "hot") stillHot.push(c);
      continue;
    }
    if (c.tier === "hot" && rules.hotToWarmIdleMs > 0 && idleFor(c) >= rules.hotToWarmIdleMs) {
      plan.push({ id: c.id, from: "hot", to: "warm", reason: "idle" });
    } else if (
      c.tier === "warm" && rules.coldEnabled && rules.warmToColdIdleMs > 0 &&
      idleFor(c) >= rules.warmToColdIdleMs
    ) {
      plan.push({ id: c.id, from: "warm", to: "cold", reason: "idle" });
    } else if (c.tier === "hot") {
      stillHot.push(c);
    }
  }
  if (rules.hotMemoryBudgetBytes <= 0) return plan;
  let totalBytes = stillHot.reduce((sum, c) => sum + c.memoryBytes, 0);
  const lru = stillHot.filter((c) => !c.pinned)
    .sort((a, b) => a.lastAccessedAtMs - b.lastAccessedAtMs || a.id.localeCompare(b.id));
  // The most recently used collection is never evicted by the budget: it was just
  // promoted for a request, and demoting it would thrash (load, evict, load…).
  lru.pop();
  for (const c of lru) {
    if (totalBytes <= rules.hotMemoryBudgetBytes) break;
    plan.push({ id: c.id, from: "hot", to: "warm", reason: "memory_budget" });
    totalBytes -= c.memoryBytes;
  }
  return plan;
}
