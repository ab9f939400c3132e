/**
 * Packaging, part 5: scripts/smoke-test.sh against a real local server (both
 * JSON readers), scripts/deploy-blue-green.sh in --dry-run and against stub
 * kubectl/helm with a stub Prometheus (switch, rollback), and shellcheck.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort, type ServerProcess, startServer } from "./support/server_process.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SMOKE = `${ROOT}scripts/smoke-test.sh`;
const BLUE_GREEN = `${ROOT}scripts/deploy-blue-green.sh`;

async function sh(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command("bash", {
    args,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function has(command: string): Promise<boolean> {
  return (await sh(["-c", `command -v ${command}`])).code === 0;
}

Deno.test("scripts: shellcheck is clean", async () => {
  if (!await has("shellcheck")) {
    console.log("skipped: shellcheck is not installed (apt-get install shellcheck; .ci/run does)");
    return;
  }
  const scripts = [...Deno.readDirSync(`${ROOT}scripts`)]
    .filter((e) => e.isFile && e.name.endsWith(".sh")).map((e) => `scripts/${e.name}`);
  assert.ok(scripts.length >= 2);
  const result = await new Deno.Command("shellcheck", {
    args: ["-x", ...scripts],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.ok(result.success, new TextDecoder().decode(result.stdout));
});

Deno.test("scripts: the smoke test passes against a local server", async () => {
  const server = await startServer();
  try {
    for (const parser of ["auto", "sed"]) {
      const result = await sh([SMOKE, server.baseUrl], { SMOKE_JSON_PARSER: parser });
      assert.equal(result.code, 0, `${parser}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /search k=10 returned 10 results/);
      assert.match(result.stdout, /smoke test passed/);
    }
    const list = await (await fetch(`${server.baseUrl}/api/v1/collections`)).json();
    assert.deepEqual(list.collections, [], "the smoke test removes its collection");
  } finally {
    await server.stop();
  }
  const down = await sh([SMOKE, `http://127.0.0.1:${freePort()}`]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /smoke test FAILED: create collection/);
});

Deno.test("scripts: the smoke test honours API keys", async () => {
  const key = "smoke-key-0123456789";
  const server = await startServer({ flags: ["--api-keys", key] });
  try {
    const denied = await sh([SMOKE, server.baseUrl]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /HTTP 401/);
    const allowed = await sh([SMOKE, server.baseUrl], { AKIDB_API_KEY: key });
    assert.equal(allowed.code, 0, allowed.stderr);
  } finally {
    await server.stop();
  }
});

Deno.test("scripts: blue-green --dry-run prints every command", async () => {
  const result = await sh([BLUE_GREEN, "--dry-run", "1.2.3"], { ACTIVE_COLOR: "blue" });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.ok(lines.every((line) => line.startsWith("+ ")), result.stdout);
  const expected = [
    /^\+ kubectl -n akidb get service akidb -o /,
    /^\+ helm upgrade --install akidb-green \S+deploy\/helm\/akidb --namespace akidb .*--set color=green --set image\.tag=1\.2\.3 --wait/,
    /^\+ kubectl -n akidb rollout status statefulset\/akidb-green /,
    /^\+ kubectl -n akidb wait pod --for=condition=Ready -l app\.kubernetes\.io\/instance=akidb-green,akidb\.io\/color=green /,
    /^\+ kubectl -n akidb port-forward service\/akidb-green 18080:8080$/,
    /^\+ smoke_test http:\/\/127\.0\.0\.1:18080$/,
    /^\+ kubectl -n akidb patch service akidb --type json -p '.*"akidb\.io\/color":"green".*'$/,
    /^\+ curl .*\/api\/v1\/query --data-urlencode 'query=sum\(rate\(akidb_http_requests_total\{pod=~"akidb-green-\[0-9\]\+",status=~"5\.\."\}/,
    /^\+ sleep 30 /,
  ];
  assert.equal(lines.length, expected.length, result.stdout);
  expected.forEach((pattern, i) => assert.match(lines[i]!, pattern));
  const back = await sh([BLUE_GREEN, "--dry-run", "1.2.4"], { ACTIVE_COLOR: "green" });
  assert.match(back.stdout, /helm upgrade --install akidb-blue /);
  assert.equal((await sh([BLUE_GREEN, "--dry-run"])).code, 2, "the version is required");
});

/** Stub kubectl/helm that log their arguments; the live colour is blue. */
async function stubBin(dir: string): Promise<void> {
  const kubectl = `#!/usr/bin/env bash
echo "kubectl $*" >> "$STUB_LOG"
case "$*" in
  *"get service"*"-o"*) printf blue ;;
  *port-forward*) exec sleep 60 ;;
esac
exit 0
`;
  await Deno.writeTextFile(`${dir}/kubectl`, kubectl, { mode: 0o755 });
  await Deno.writeTextFile(`${dir}/helm`, `#!/usr/bin/env bash\necho "helm $*" >> "$STUB_LOG"\n`, {
    mode: 0o755,
  });
}

async function blueGreenAgainstStubs(server: ServerProcess, ratio: string) {
  const dir = await Deno.makeTempDir({ prefix: "akidb-bg-" });
  const prometheus = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      Response.json({
        status: "success",
        data: { resultType: "vector", result: [{ metric: {}, value: [1, ratio] }] },
      }),
  );
  try {
    await stubBin(dir);
    const result = await sh([BLUE_GREEN, "9.9.9"], {
      PATH: `${dir}:${Deno.env.get("PATH")}`,
      STUB_LOG: `${dir}/log`,
      LOCAL_PORT: String(server.port), // the port-forward stub sleeps; the smoke test hits the real server
      PROMETHEUS_URL: `http://127.0.0.1:${prometheus.addr.port}`,
      WATCH_SECONDS: "2",
      WATCH_INTERVAL_SECONDS: "1",
    });
    const log = await Deno.readTextFile(`${dir}/log`);
    return { ...result, log };
  } finally {
    await prometheus.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("scripts: blue-green switches, then rolls back when the 5xx ratio is too high", async () => {
  const server = await startServer();
  try {
    const good = await blueGreenAgainstStubs(server, "0");
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.log, /helm upgrade --install akidb-green .*image\.tag=9\.9\.9/);
    const goodPatches = good.log.split("\n").filter((l) => l.includes("patch service"));
    assert.equal(goodPatches.length, 1);
    assert.match(goodPatches[0]!, /"akidb\.io\/color":"green"/);
    assert.match(good.stderr, /blue kept for rollback/);
    assert.doesNotMatch(good.log, /uninstall|delete/, "the old colour is kept");

    const bad = await blueGreenAgainstStubs(server, "0.5");
    assert.equal(bad.code, 1);
    const patches = bad.log.split("\n").filter((l) => l.includes("patch service"));
    assert.equal(patches.length, 2, bad.log);
    assert.match(patches[0]!, /"akidb\.io\/color":"green"/);
    assert.match(patches[1]!, /"akidb\.io\/color":"blue"/);
    assert.match(bad.stderr, /ROLLING BACK to blue/);
  } finally {
    await server.stop();
  }
});
