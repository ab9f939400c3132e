/**
 * Seeds for randomised tests: every such test prints its seed and takes
 * `SEED=<n>` from the environment to reproduce a run.
 *
 * @module
 */

/**
 * The seed of this run: `SEED` from the environment, or a fresh random one.
 * Prints it with the test's name so a failure can be reproduced.
 *
 * @param testName printed with the seed
 * @returns the seed
 * @throws TypeError when `SEED` is not an integer 0..2^32−1
 */
export function testSeed(testName: string): number {
  const text = Deno.env.get("SEED");
  let seed: number;
  if (text === undefined) {
    seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
  } else {
    seed = Number(text);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new TypeError(`Cannot use SEED="${text}": expected an integer in 0..4294967295`);
    }
  }
  console.log(`${testName}: SEED=${seed}`);
  return seed;
}

/**
 * mulberry32: a small seeded generator of floats in [0, 1).
 *
 * @param seed any 32-bit integer
 * @returns the generator
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A vector of uniform floats in [−1, 1).
 *
 * @param random the generator
 * @param dimension its length
 * @returns the vector
 */
export function randomVector(random: () => number, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) vector[i] = random() * 2 - 1;
  return vector;
}
