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
 * @param show How to write the suggested name in the hint.
 * @returns A hint such as ` (did you mean --port?)`, or the empty string.
 */
export function didYouMean(
  name: string,
  candidates: Iterable<string>,
  show: (candidate: string) => string = (candidate) => candidate,
): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const allowed = Math.max(1, Math.floor(name.length / 3));
  return best !== undefined && bestDistance <= allowed ? ` (did you mean ${show(best)}?)` : "";
}

/**
 * Optimal string alignment distance: Levenshtein plus swaps of neighbours.
 *
 * @param a One string.
 * @param b The other.
 * @returns The number of edits turning `a` into `b`.
 */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const above = rows[i - 1] ?? [];
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}
