/**
 * A bounded worker pool: runs `task` over items with at most `concurrency` in
 * flight. Private to this folder.
 *
 * @module
 */

/**
 * Runs every item through `task`, at most `concurrency` at a time.
 *
 * @param items The items.
 * @param concurrency Most tasks in flight (≥ 1).
 * @param task Must not reject; failures are its own business.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
