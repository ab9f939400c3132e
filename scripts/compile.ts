/**
 * `deno task compile`: builds the single `akidb` binary per target with
 * `deno compile`, embedding the kernel `.wasm`, with the narrowest
 * permissions the server needs. Each target is compiled into a temporary
 * directory and renamed into `dist/akidb-<target>` only after `deno compile`
 * succeeded and the file is non-empty, so a failure never leaves a
 * half-built binary behind.
 *
 * `deno compile` downloads its `denort` runtime from dl.deno.land. Offline,
 * point `DENORT_BIN` at a `denort` binary of the same Deno version (then only
 * the one target that binary was built for can be compiled).
 *
 *   deno task compile                                   # every target
 *   deno task compile --target aarch64-unknown-linux-gnu
 *   DENORT_BIN=/opt/denort deno task compile --target x86_64-unknown-linux-gnu
 *
 * Flags: `--target <triple>` (repeatable), `--out-dir <dir>` (default `dist`).
 * Exit codes: 0 built, 1 compile failed, 2 usage error.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The targets `deno task compile` builds by default. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
];

/**
 * The permissions baked into the binary: files (data dir, config, embedded
 * kernel), network (HTTP API, S3, OTLP), `AKIDB_*`/AWS/OTEL environment, and
 * sys info for prom-client's process metrics. No `--allow-run`, no
 * `--allow-ffi`, no `--allow-all`.
 */
export const PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
];

/** The kernel module embedded with `--include`; `src/kernel/kernel.ts` reads it by URL. */
export const KERNEL_WASM = "wasm-kernels/build/akidb.wasm";

/** Worker entry points: `deno compile` embeds a worker's module only when it is `--include`d. */
export const WORKER_MODULES: readonly string[] = [
  "src/api/parse_worker.ts",
  "src/engine/graph_builder_worker.ts",
];

/** Packages in node_modules that only tests and benchmarks use; never embedded. */
const DEV_ONLY = ["deno", "@duckdb", "hnswlib-node", "s3rver", "assemblyscript", ".bin"];

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * The `deno compile` arguments of one target.
 *
 * @param target A Rust target triple, e.g. `x86_64-unknown-linux-gnu`.
 * @param output The output file path.
 * @returns The arguments after `deno`.
 *
 * @example
 * ```ts
 * import { compileArgs } from "./compile.ts";
 * const args = compileArgs("aarch64-unknown-linux-gnu", "/tmp/x/akidb");
 * if (!args.includes("--include") || args.includes("--allow-all")) throw new Error(args.join(" "));
 * ```
 */
export function compileArgs(target: string, output: string): string[] {
  return [
    "compile",
    ...PERMISSIONS,
    "--include",
    KERNEL_WASM,
    ...WORKER_MODULES.flatMap((module) => ["--include", module]),
    ...DEV_ONLY.flatMap((name) => ["--exclude", `node_modules/${name}`]),
    "--target",
    target,
    "--output",
    output,
    "src/main.ts",
  ];
}

/**
 * Explains a failed `deno compile` in one line, naming `DENORT_BIN` when the
 * runtime could not be downloaded.
 *
 * @param stderr What `deno compile` wrote to stderr.
 * @param target The target being built.
 * @param denortBin The `DENORT_BIN` in effect, if any.
 * @returns The message, action first.
 *
 * @example
 * ```ts
 * import { explainFailure } from "./compile.ts";
 * const message = explainFailure("error sending request for url (https://dl.deno.land/x)", "x86_64-unknown-linux-gnu", undefined);
 * if (!message.includes("DENORT_BIN")) throw new Error(message);
 * ```
 */
export function explainFailure(
  stderr: string,
  target: string,
  denortBin: string | undefined,
): string {
  const head = `Cannot compile akidb for ${target}`;
  if (/dl\.deno\.land|denort|Setting up base binary/i.test(stderr) && denortBin === undefined) {
    return `${head}: the denort runtime could not be downloaded from dl.deno.land; ` +
      `set DENORT_BIN to a denort ${Deno.version.deno} binary for ${target} and build that target only`;
  }
  if (/overflowed its stack/.test(stderr)) {
    return `${head}: deno compile crashed with a stack overflow while embedding node_modules ` +
      `(Deno 2.9 regression, denoland/deno#36746); use a Deno release where it is fixed`;
  }
  const last = stderr.trim().split("\n").slice(-3).join(" | ");
  const via = denortBin === undefined ? "" : ` (DENORT_BIN=${denortBin})`;
  return `${head}${via}: deno compile failed: ${last}`;
}

/** Parses `--target` and `--out-dir`; throws `TypeError` on anything else. */
function parseArgs(args: readonly string[]): { targets: string[]; outDir: string } {
  const targets: string[] = [];
  let outDir = `${ROOT}dist`;
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i]!.split("=", 2) as [string, string | undefined];
    const value = inline ?? args[++i];
    if (value === undefined) throw new TypeError(`Cannot parse arguments: ${name} needs a value`);
    if (name === "--target") targets.push(value);
    else if (name === "--out-dir") outDir = value;
    else throw new TypeError(`Cannot parse arguments: unknown flag "${name}"`);
  }
  return { targets: targets.length > 0 ? targets : [...TARGETS], outDir };
}

/**
 * Compiles one target into `outDir/akidb-<target>` through a temporary directory.
 *
 * @returns An error message, or undefined on success.
 */
async function compileTarget(
  target: string,
  outDir: string,
  denortBin: string | undefined,
): Promise<string | undefined> {
  const work = await Deno.makeTempDir({ prefix: "akidb-compile-" });
  try {
    const built = `${work}/akidb`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(target, built),
      cwd: ROOT,
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    if (!output.success) return explainFailure(stderr, target, denortBin);
    const info = await Deno.stat(built).catch(() => undefined);
    if (info === undefined || info.size === 0) {
      return `Cannot compile akidb for ${target}: deno compile exited 0 but wrote no binary`;
    }
    await Deno.mkdir(outDir, { recursive: true });
    const final = `${outDir}/akidb-${target}`;
    // Same filesystem as the final path is not guaranteed for /tmp: copy next to it, then rename.
    const staged = `${final}.partial-${Deno.pid}`;
    try {
      await Deno.copyFile(built, staged);
      await Deno.chmod(staged, 0o755);
      await Deno.rename(staged, final);
    } catch (error) {
      await Deno.remove(staged).catch(() => {});
      throw error;
    }
    return undefined;
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

async function run(args: readonly string[]): Promise<number> {
  let parsed: { targets: string[]; outDir: string };
  try {
    parsed = parseArgs(args);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const denortBin = Deno.env.get("DENORT_BIN") || undefined;
  if (denortBin !== undefined && parsed.targets.length > 1) {
    console.error(
      `Cannot compile several targets with DENORT_BIN=${denortBin}: ` +
        `a denort binary serves one target, pass --target <triple>`,
    );
    return 2;
  }
  await Deno.stat(`${ROOT}${KERNEL_WASM}`).catch(() => {
    throw new Error(`Cannot compile akidb: ${KERNEL_WASM} is missing, run "deno task build"`);
  });
  for (const target of parsed.targets) {
    const failure = await compileTarget(target, parsed.outDir, denortBin);
    if (failure !== undefined) {
      console.error(failure);
      return 1;
    }
    console.error(`built ${parsed.outDir}/akidb-${target}`);
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
