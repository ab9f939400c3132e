/**
 * CPU time of a child process read from `/proc/<pid>/stat` (Linux), used to see when a server's
 * background indexing has finished: the HTTP API does not expose the unindexed-tail size, but an
 * idle server burns almost no CPU.
 *
 * @module
 */

import { sleep } from "./load.ts";

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU seconds a process has used.
 *
 * @param pid The process id.
 * @returns CPU seconds.
 * @throws {Error} When `/proc/<pid>/stat` cannot be read (not Linux, or the process is gone).
 */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / TICKS_PER_SECOND;
}

/**
 * Resident set size of a process in bytes.
 *
 * @param pid The process id.
 * @returns VmRSS in bytes, or NaN when unknown.
 */
export async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}

/**
 * Waits until a process uses less than `busyFraction` of one core over `windowMs`, i.e. its
 * background work is done.
 *
 * @param pid The process id.
 * @param timeoutMs Give up after this long.
 * @param windowMs Sampling window.
 * @param busyFraction CPU seconds per wall second below which it counts as idle.
 * @returns Milliseconds waited, or -1 on timeout.
 */
export async function waitCpuIdle(
  pid: number,
  timeoutMs: number,
  windowMs = 1000,
  busyFraction = 0.05,
): Promise<number> {
  const started = performance.now();
  let before = await cpuSeconds(pid);
  while (performance.now() - started < timeoutMs) {
    await sleep(windowMs);
    const after = await cpuSeconds(pid);
    if ((after - before) / (windowMs / 1000) < busyFraction) {
      return performance.now() - started;
    }
    before = after;
  }
  return -1;
}
