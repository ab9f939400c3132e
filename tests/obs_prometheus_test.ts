/**
 * The alert rules and dashboards against a real Prometheus: `promtool check
 * rules`, then Debian's Prometheus scraping a running AkiDB every second,
 * with the rules loaded; after some traffic every PromQL expression of the
 * dashboards and the rules is evaluated through `/api/v1/query` and every
 * metric it names must be among the series Prometheus scraped from AkiDB.
 * Skipped, with a message, when promtool/prometheus are not installed
 * (`.ci/run` installs them).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort, type ServerProcess, startServer } from "./support/server_process.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RULES = `${ROOT}deploy/prometheus/alerts.yaml`;
const RULE_TESTS = `${ROOT}deploy/prometheus/alerts_test.yaml`;
const DASHBOARDS = `${ROOT}deploy/grafana/dashboards`;
const PROMTOOL = "/usr/bin/promtool";
const PROMETHEUS = "/usr/bin/prometheus";

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const havePromtool = installed(PROMTOOL);
const havePrometheus = installed(PROMETHEUS);
if (!havePromtool || !havePrometheus) {
  console.warn(
    `SKIPPING Prometheus tests: ${PROMTOOL} or ${PROMETHEUS} is missing ` +
      "(apt-get install -y --no-install-recommends prometheus; .ci/run does it)",
  );
}

/** Runs promtool; asserts it exits 0 and returns its output. */
async function promtool(...args: string[]): Promise<string> {
  const output = await new Deno.Command(PROMTOOL, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  return text;
}

Deno.test({
  name: "obs: promtool check rules accepts deploy/prometheus/alerts.yaml",
  ignore: !havePromtool,
  async fn() {
    assert.match(await promtool("check", "rules", RULES), /SUCCESS: \d+ rules found/);
  },
});

Deno.test({
  name: "obs: promtool test rules passes deploy/prometheus/alerts_test.yaml",
  ignore: !havePromtool,
  async fn() {
    assert.match(await promtool("test", "rules", RULE_TESTS), /SUCCESS/);
  },
});

/** A PromQL expression and where it comes from. */
interface Expression {
  readonly source: string;
  readonly expr: string;
}

/** Every target expression of every dashboard, with Grafana's variables substituted. */
function dashboardExpressions(): Expression[] {
  const found: Expression[] = [];
  for (const entry of Deno.readDirSync(DASHBOARDS)) {
    if (!entry.name.endsWith(".json")) continue;
    const dashboard = JSON.parse(Deno.readTextFileSync(`${DASHBOARDS}/${entry.name}`));
    assert.ok(
      dashboard.templating.list.some((v: { type: string }) => v.type === "datasource"),
      `${entry.name}: no datasource variable`,
    );
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        found.push({ source: `${entry.name} / ${panel.title}`, expr: substitute(target.expr) });
      }
    }
    for (const variable of dashboard.templating.list) {
      const query: string | undefined = variable.query?.query;
      const labelValues = query === undefined ? null : /^label_values\((.+),\s*\w+\)$/.exec(query);
      if (labelValues !== null) {
        found.push({ source: `${entry.name} / $${variable.name}`, expr: labelValues[1]! });
      }
    }
  }
  return found;
}

function substitute(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__interval", "15s")
    .replaceAll("$__range", "5m")
    .replaceAll("$instance", ".*");
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan",
]);

/** The metric names an expression selects (strings, label matchers, grouping, ranges removed). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ");
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    if (match[1] !== undefined) continue; // a function call
    const name = match[0];
    if (KEYWORDS.has(name.toLowerCase()) || /^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** A Prometheus child process on 127.0.0.1. */
interface PrometheusProcess {
  readonly baseUrl: string;
  log(): string;
  stop(): Promise<void>;
}

async function startPrometheus(target: string): Promise<PrometheusProcess> {
  const dir = await Deno.makeTempDir({ prefix: "akidb-prometheus-" });
  const port = freePort();
  await Deno.copyFile(RULES, `${dir}/alerts.yaml`);
  await Deno.writeTextFile(
    `${dir}/prometheus.yml`,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      "rule_files: [alerts.yaml]",
      "scrape_configs:",
      "  - job_name: akidb",
      `    static_configs: [{ targets: ["${target}"] }]`,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(PROMETHEUS, {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const logDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (log += chunk) }),
  ).catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const prometheus: PrometheusProcess = {
    baseUrl: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (!exited) child.kill("SIGTERM"); // this child's pid only
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 10_000);
      await status;
      clearTimeout(timer);
      await logDone;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  try {
    await waitFor("Prometheus ready", 30_000, async () => {
      if (exited) throw new Error(`Prometheus exited:\n${log}`);
      const response = await fetch(`${prometheus.baseUrl}/-/ready`).catch(() => undefined);
      await response?.body?.cancel();
      return response?.status === 200;
    });
  } catch (error) {
    await prometheus.stop();
    throw error;
  }
  return prometheus;
}

async function waitFor(what: string, timeoutMs: number, ready: () => Promise<boolean>) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function api(prometheus: PrometheusProcess, path: string): Promise<{
  status: string;
  data: unknown;
  error?: string;
}> {
  const response = await fetch(`${prometheus.baseUrl}${path}`, {
    signal: AbortSignal.timeout(10_000),
  });
  return await response.json();
}

async function driveTraffic(server: ServerProcess): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(
    await post("/api/v1/collections", { name: "prom", dimension: 8, metric: "l2" }),
    201,
  );
  for (let batch = 0; batch < 5; batch++) {
    const vectors = Array.from({ length: 50 }, (_, i) => ({
      id: batch * 50 + i,
      vector: Array.from({ length: 8 }, (_, d) => Math.sin(batch * 50 + i + d)),
    }));
    assert.equal(await post("/api/v1/collections/prom/vectors", { vectors }), 200);
  }
  for (let i = 0; i < 30; i++) {
    const vector = Array.from({ length: 8 }, (_, d) => Math.cos(i + d));
    assert.equal(await post("/api/v1/collections/prom/search", { vector, k: 5 }), 200);
  }
  assert.equal(await post("/api/v1/collections/prom/snapshots", {}), 201);
  assert.equal(await post("/api/v1/collections/nope/search", { vector: [1], k: 1 }), 404);
}

Deno.test({
  name: "obs: Prometheus scrapes AkiDB; every dashboard and alert expression parses and " +
    "names only exported metrics",
  ignore: !havePromtool || !havePrometheus,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startServer({ env: { AKIDB_LOG_LEVEL: "warn" } });
    let prometheus: PrometheusProcess | undefined;
    try {
      prometheus = await startPrometheus(`127.0.0.1:${server.port}`);
      await driveTraffic(server);
      const p = prometheus;
      // Wait until a scrape after the traffic landed, then a few more so rate() has points.
      await waitFor("the upserts to be scraped", 30_000, async () => {
        const result = await api(p, "/api/v1/query?query=akidb_vector_upserts_total");
        const value = (result.data as { result: { value: [number, string] }[] }).result[0]?.value;
        return value !== undefined && Number(value[1]) === 250;
      });
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      const scraped = await api(p, '/api/v1/label/__name__/values?match[]={job="akidb"}');
      const exported = new Set(scraped.data as string[]);
      assert.ok(exported.has("akidb_http_requests_total"), `scraped: ${[...exported].join(" ")}`);

      const rules = await api(p, "/api/v1/rules");
      const groups = (rules.data as {
        groups: { rules: { name: string; query: string; health: string; lastError?: string }[] }[];
      }).groups;
      const alertRules = groups.flatMap((group) => group.rules);
      const declared = Deno.readTextFileSync(RULES).match(/^\s*- alert: /gm)?.length ?? 0;
      assert.equal(alertRules.length, declared, "Prometheus did not load every rule");
      for (const rule of alertRules) {
        assert.notEqual(rule.health, "err", `${rule.name}: ${rule.lastError}`);
      }

      const expressions: Expression[] = [
        ...alertRules.map((rule) => ({ source: `alerts.yaml / ${rule.name}`, expr: rule.query })),
        ...dashboardExpressions(),
      ];
      assert.ok(expressions.length > 60, `only ${expressions.length} expressions found`);
      const problems: string[] = [];
      for (const { source, expr } of expressions) {
        const result = await api(p, `/api/v1/query?query=${encodeURIComponent(expr)}`);
        if (result.status !== "success") problems.push(`${source}: ${result.error}\n  ${expr}`);
        const names = metricNames(expr);
        if (names.length === 0) problems.push(`${source}: names no metric\n  ${expr}`);
        for (const name of names) {
          // `up` is Prometheus' own per-target series; everything else must come from AkiDB.
          if (!exported.has(name)) problems.push(`${source}: ${name} is not exported\n  ${expr}`);
        }
      }
      assert.deepEqual(problems, [], problems.join("\n"));
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- prometheus log (tail) ---\n${
          prometheus?.log().slice(-3000)
        }`,
        { cause: error },
      );
    } finally {
      await prometheus?.stop();
      await server.stop();
    }
  },
});

Deno.test("obs: metricNames finds the metrics of an expression and nothing else", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.95, sum by (instance, le) (rate(akidb_x_bucket{a="b c",d=~"5.."}[5m])))' +
        " / on(instance) group_left akidb_y > 0.9 and up == 0",
    ).sort(),
    ["akidb_x_bucket", "akidb_y", "up"],
  );
});

Deno.test("obs: every alert has a summary, a description and a runbook section that exists", () => {
  const rules = Deno.readTextFileSync(RULES);
  const runbook = Deno.readTextFileSync(`${ROOT}docs/RUNBOOK.md`);
  const anchors = new Set(
    [...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase()),
  );
  const alerts = rules.split(/^\s*- alert: /m).slice(1);
  assert.ok(alerts.length >= 10, `only ${alerts.length} alerts`);
  for (const alert of alerts) {
    const name = alert.split("\n")[0]!.trim();
    assert.match(alert, /severity: (critical|warning)\n/, `${name}: severity`);
    assert.match(alert, /summary: "/, `${name}: summary`);
    assert.match(alert, /description: "/, `${name}: description`);
    const anchor = /runbook_url: "docs\/RUNBOOK\.md#([a-z0-9-]+)"/.exec(alert)?.[1];
    assert.ok(anchor !== undefined, `${name}: runbook_url`);
    assert.ok(anchors.has(anchor), `${name}: docs/RUNBOOK.md has no section #${anchor}`);
  }
  for (const severity of ["critical", "warning"]) {
    assert.ok(rules.includes(`severity: ${severity}`), `no ${severity} rule`);
  }
});
