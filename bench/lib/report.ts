/**
 * Shared output of the server benchmarks: flag parsing, a plain text table, machine facts and
 * the JSON results file.
 *
 * @module
 */

import os from "node:os";

/**
 * Parses `--name value` / `--name=value` flags.
 *
 * @param args Command-line arguments.
 * @param known Accepted flag names.
 * @returns Name → value.
 * @throws {TypeError} On an unknown flag or a missing value.
 * @example
 * ```ts
 * import { parseFlags } from "./report.ts";
 * const flags = parseFlags(["--limit", "5", "--ef=1,2"], ["limit", "ef"]);
 * if (flags.get("limit") !== "5" || flags.get("ef") !== "1,2") throw new Error();
 * ```
 */
export function parseFlags(args: readonly string[], known: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      throw new TypeError(`Cannot parse argument "${arg}": flags start with --`);
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (!known.includes(name)) throw new TypeError(`Cannot parse --${name}: unknown flag`);
    if (value === undefined) throw new TypeError(`Cannot parse --${name}: missing value`);
    flags.set(name, value);
  }
  return flags;
}

/**
 * A positive integer flag, or its default.
 *
 * @throws {TypeError} When the value is not a positive integer.
 */
export function intFlag(flags: Map<string, string>, name: string, fallback: number): number {
  const text = flags.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`Cannot parse --${name}: "${text}" is not a positive integer`);
  }
  return value;
}

/** A comma-separated list of positive integers, or its default. */
export function intListFlag(
  flags: Map<string, string>,
  name: string,
  fallback: number[],
): number[] {
  const text = flags.get(name);
  if (text === undefined) return fallback;
  return text.split(",").map((part) => intFlag(new Map([[name, part]]), name, 0));
}

/**
 * Prints rows as an aligned table (first column left-aligned, others right-aligned).
 *
 * @param header Column titles.
 * @param rows Cells.
 */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))
      .join("  ");
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const row of rows) console.log(line(row));
  console.log("");
}

/** CPU model, cores, Deno version, load average at the time of the call. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || "unknown",
    cores: cpus.length || navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    load_average_1m_at_end: Number(os.loadavg()[0]?.toFixed(2)),
    note: "client (load generator) and server share the same cores; shared, noisy VM",
  };
}

/**
 * Writes a results object as pretty JSON (creating the folder).
 *
 * @param path Output file.
 * @param results The object.
 */
export async function writeResults(path: string, results: Record<string, unknown>): Promise<void> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(results, null, 2) + "\n");
  console.log(`results written to ${path}`);
}

/**
 * Runs a benchmark as a program: its message (and the usage, for a flag
 * error) on failure, exit code 1.
 *
 * @param run the benchmark's entry, given `Deno.args`
 * @param usage printed after a `TypeError` (bad flags)
 */
export async function runAsMain(
  run: (args: readonly string[]) => Promise<unknown>,
  usage: string,
): Promise<void> {
  try {
    await run(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    if (error instanceof TypeError) console.error(usage);
    Deno.exit(1);
  }
}
