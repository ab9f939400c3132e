// Seeded random levels: splitmix64, so a build is reproducible from its seed.
// The state lives in the segment's header, so whichever instance inserts
// continues the same sequence.

import { H_RANDOM, header, levelMultiplier, MAX_LEVEL } from "./segment";

export function seedRandom(seed: u64): void {
  store<u64>(header + H_RANDOM, seed);
}

export function randomState(): u64 {
  return load<u64>(header + H_RANDOM);
}

function nextU64(): u64 {
  const state = load<u64>(header + H_RANDOM) + 0x9e3779b97f4a7c15;
  store<u64>(header + H_RANDOM, state);
  let z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** Draws a node level: floor(−ln(U) · 1/ln(m)), U uniform in (0, 1], capped. */
export function randomLevel(): i32 {
  const uniform = (<f64>(nextU64() >> 11) + 1.0) / 9007199254740992.0;
  const level = <i32>Math.floor(-Math.log(uniform) * levelMultiplier);
  return level < MAX_LEVEL ? level : MAX_LEVEL;
}
