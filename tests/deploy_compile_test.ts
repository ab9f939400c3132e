/**
 * Packaging, part 1: the `deno task compile` wrapper and the CLI run from source.
 * Compiling for real needs the `denort` runtime (downloaded, or `DENORT_BIN`),
 * which this machine does not have: the test proves the failure is clean.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  compileArgs,
  explainFailure,
  KERNEL_WASM,
  PERMISSIONS,
  TARGETS,
  WORKER_MODULES,
} from "../scripts/compile.ts";
import { startServer } from "./support/server_process.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DENO = `${ROOT}node_modules/.bin/deno`;

async function run(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(DENO, {
    args,
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("compile: both linux targets, narrow permissions, the kernel embedded", () => {
  assert.deepEqual(TARGETS, ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"]);
  const args = compileArgs("aarch64-unknown-linux-gnu", "/tmp/out/akidb");
  for (const permission of PERMISSIONS) assert.ok(args.includes(permission), permission);
  assert.ok(!args.some((arg) => arg === "--allow-all" || arg === "-A" || arg === "--allow-run"));
  assert.equal(args[args.indexOf("--include") + 1], KERNEL_WASM);
  assert.equal(args[args.indexOf("--target") + 1], "aarch64-unknown-linux-gnu");
  assert.equal(args.at(-1), "src/main.ts");
});

Deno.test("compile: every worker module is embedded", async () => {
  const workers: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith("_worker.ts")) workers.push(path);
    }
  };
  await walk("src");
  assert.deepEqual([...WORKER_MODULES].sort(), workers.sort());
  const args = compileArgs("x86_64-unknown-linux-gnu", "/tmp/out/akidb");
  for (const module of WORKER_MODULES) assert.equal(args[args.indexOf(module) - 1], "--include");
});

Deno.test("compile: an offline download failure names DENORT_BIN", () => {
  const stderr =
    "error: Writing deno compile executable\nCaused by:\n 0: Setting up base binary.\n" +
    " 1: error sending request for url (https://dl.deno.land/release/v2.9.5/denort-x.zip)";
  const message = explainFailure(stderr, "x86_64-unknown-linux-gnu", undefined);
  assert.match(message, /^Cannot compile akidb for x86_64-unknown-linux-gnu: .*DENORT_BIN/);
});

Deno.test("compile: a failing build leaves no binary and no partial file", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "akidb-dist-" });
  try {
    const result = await run(
      [
        "run",
        "-A",
        "scripts/compile.ts",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--out-dir",
        outDir,
      ],
      { DENORT_BIN: "/nonexistent/denort" },
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /DENORT_BIN/);
    assert.deepEqual([...Deno.readDirSync(outDir)], []);
    const several = await run(["run", "-A", "scripts/compile.ts", "--out-dir", outDir], {
      DENORT_BIN: "/nonexistent/denort",
    });
    assert.equal(several.code, 2, "DENORT_BIN serves one target: several must be refused");
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});

Deno.test("cli from source: --version and --help", async () => {
  const version = await run(["run", "-A", "src/main.ts", "--version"]);
  assert.equal(version.code, 0);
  const pkg = JSON.parse(await Deno.readTextFile(`${ROOT}package.json`));
  assert.equal(version.stdout, `akidb ${pkg.version}\n`);
  const help = await run(["run", "-A", "src/main.ts", "--help"]);
  assert.equal(help.code, 0);
  for (const word of ["serve", "healthcheck", "snapshot <collection>", "restore <collection>"]) {
    assert.ok(help.stdout.includes(word), word);
  }
  const unknown = await run(["run", "-A", "src/main.ts", "frobnicate"]);
  assert.equal(unknown.code, 2);
});

Deno.test("cli from source: healthcheck, snapshot and restore against a running server", async () => {
  const server = await startServer();
  try {
    const url = ["--url", server.baseUrl];
    const health = await run(["run", "-A", "src/main.ts", "healthcheck", ...url]);
    assert.equal(health.code, 0, health.stderr);
    assert.match(health.stdout, /"status":"ok"/);
    // Through the config, as in the container: AKIDB_PORT names the server.
    const viaEnv = await run(["run", "-A", "src/main.ts", "healthcheck"], {
      AKIDB_PORT: String(server.port),
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const created = await fetch(`${server.baseUrl}/api/v1/collections`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "cli", dimension: 2, metric: "l2" }),
    });
    assert.equal(created.status, 201);
    await created.body?.cancel();
    await (await fetch(`${server.baseUrl}/api/v1/collections/cli/vectors`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "a", vector: [1, 2] }),
    })).body?.cancel();
    const snapshot = await run(["run", "-A", "src/main.ts", "snapshot", "cli", ...url]);
    assert.equal(snapshot.code, 0, snapshot.stdout + snapshot.stderr);
    const restore = await run(["run", "-A", "src/main.ts", "restore", "cli", "latest", ...url]);
    assert.equal(restore.code, 0, restore.stdout + restore.stderr);
    const missing = await run(["run", "-A", "src/main.ts", "snapshot", "nope", ...url]);
    assert.equal(missing.code, 1);
  } finally {
    await server.stop();
  }
  const down = await run(["run", "-A", "src/main.ts", "healthcheck", "--url", server.baseUrl]);
  assert.equal(down.code, 1);
});
