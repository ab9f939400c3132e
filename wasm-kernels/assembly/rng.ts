// Seeded random levels: splitmix64, so a build is reproducible from its seed.

import { levelMultiplier, MAX_LEVEL } from "./segment";

let state: u64 = 0x9e3779b97f4a7c15;

export function seedRandom(seed: u64): void {
  state = seed;
}

export function randomState(): u64 {
  return state;
}

function nextU64(): u64 {
  state += 0x9e3779b97f4a7c15;
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
