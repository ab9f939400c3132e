/**
 * "Did you mean …" hints for mistyped keys, flags and variables.
 *
 * @module
 */

/**
 * Finds the candidate closest to a mistyped name, if one is close enough to be
 * the intended one (an edit distance of at most a third of its length, at least 2).
 *
 * @param name The mistyped name.
 * @param candidates The valid names.
 * @returns A hint such as ` (did you mean --port?)`, or the empty string.
 */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const allowed = Math.max(2, Math.floor(name.length / 3));
  return best !== undefined && bestDistance <= allowed ? ` (did you mean ${best}?)` : "";
}

/**
 * Levenshtein distance (insertions, deletions, substitutions).
 *
 * @param a One string.
 * @param b The other.
 * @returns The number of single-character edits turning `a` into `b`.
 */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
