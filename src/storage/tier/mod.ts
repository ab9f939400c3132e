/**
 * Hot/warm/cold tiering: the pure rules ({@linkcode planTransitions}). The
 * engine's `TierManager` applies them and moves the data.
 *
 * @module
 */

export * from "./tier_rules.ts";
