/**
 * Packaging, part 4: the Helm chart, validated without helm. values.yaml and
 * Chart.yaml parse; the `config:` map, rendered to TOML by the same rules as
 * `akidb.configToml` in templates/_helpers.tpl, loads through the server's
 * own config parser; every AKIDB_* variable the templates set is one the
 * server reads; every `.Values.*` the templates use exists; the README
 * documents every value.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CONFIG_KEYS, loadConfig } from "../src/config/mod.ts";
import { parseYamlSubset, type YamlValue } from "../scripts/lib/yaml_subset.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHART = `${ROOT}deploy/helm/akidb`;
type YamlMap = { [key: string]: YamlValue };

function readYaml(path: string): YamlMap {
  const value = parseYamlSubset(Deno.readTextFileSync(path));
  assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), path);
  return value;
}

function templates(): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of Deno.readDirSync(`${CHART}/templates`)) {
    out.set(entry.name, Deno.readTextFileSync(`${CHART}/templates/${entry.name}`));
  }
  return out;
}

/** The TOML the ConfigMap holds: `akidb.configToml`'s rules (sorted keys, as Go templates range). */
export function renderConfigToml(config: YamlMap): string {
  const lines: string[] = [];
  for (const section of Object.keys(config).sort()) {
    const keys = config[section];
    assert.ok(keys !== null && typeof keys === "object" && !Array.isArray(keys), section);
    lines.push(`[${section}]`);
    for (const key of Object.keys(keys).sort()) {
      const value = keys[key]!;
      if (typeof value === "string") lines.push(`${key} = ${JSON.stringify(value)}`);
      else if (typeof value === "boolean" || typeof value === "number") {
        lines.push(`${key} = ${value}`);
      } else if (Array.isArray(value)) lines.push(`${key} = ${JSON.stringify(value)}`);
      else assert.fail(`config.${section}.${key}: nested maps are not rendered`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

const SERVER_ENV = new Set([
  "AKIDB_CONFIG", // the config file path, read by src/config/_sources.ts
  ...CONFIG_KEYS.flatMap((key) => key.descriptor.env === undefined ? [] : [key.descriptor.env]),
]);

Deno.test("helm: Chart.yaml and values.yaml parse", () => {
  const chart = readYaml(`${CHART}/Chart.yaml`);
  assert.equal(chart.apiVersion, "v2");
  assert.equal(chart.name, "akidb");
  const pkg = JSON.parse(Deno.readTextFileSync(`${ROOT}package.json`));
  assert.equal(chart.appVersion, pkg.version, "appVersion follows package.json");
  const values = readYaml(`${CHART}/values.yaml`);
  assert.equal((values.autoscaling as YamlMap).enabled, false, "HPA is off by default");
});

Deno.test("helm: the config map renders to TOML the server loads, with no warnings", () => {
  const values = readYaml(`${CHART}/values.yaml`);
  const toml = renderConfigToml(values.config as YamlMap);
  // The Secret supplies AKIDB_API_KEYS; without keys the server warns that auth is off.
  const env = { AKIDB_CONFIG: "/etc/akidb/config.toml", AKIDB_API_KEYS: "k".repeat(16) };
  const config = loadConfig([], env, (path) => {
    assert.equal(path, "/etc/akidb/config.toml");
    return toml;
  });
  assert.deepEqual(config.warnings, []);
  assert.equal(config.server.host, "0.0.0.0", "listens on every interface in the pod");
  assert.equal(config.storage.dataDir, "/var/lib/akidb", "the data volume's mount path");
  assert.equal(config.metrics.public, true, "Prometheus scrapes without a key");
  const graceMs = (values.terminationGracePeriodSeconds as number) * 1000;
  assert.ok(graceMs > config.server.shutdownTimeoutMs, "pods outlive the graceful shutdown");
  // A key the server does not read stops it: the test would catch a typo in values.yaml.
  assert.throws(
    () => loadConfig([], { AKIDB_CONFIG: "x" }, () => renderConfigToml({ server: { prot: 1 } })),
    /server\.prot/,
  );
});

Deno.test("helm: every AKIDB_* variable in the templates and values is read by the server", () => {
  const seen = new Set<string>();
  for (const [name, text] of templates()) {
    for (const match of text.matchAll(/AKIDB_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])/g)) {
      assert.ok(SERVER_ENV.has(match[0]), `${name}: ${match[0]} is not read by the server`);
      seen.add(match[0]);
    }
  }
  const values = Deno.readTextFileSync(`${CHART}/values.yaml`);
  for (const match of values.matchAll(/AKIDB_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])/g)) {
    assert.ok(SERVER_ENV.has(match[0]), `values.yaml: ${match[0]} is not read by the server`);
  }
  for (const needed of ["AKIDB_CONFIG", "AKIDB_API_KEYS", "AKIDB_S3_BUCKET"]) {
    assert.ok(seen.has(needed), needed);
  }
  for (const name of ["AKIDB_S3_ACCESS_KEY_ID", "AKIDB_S3_SECRET_ACCESS_KEY", "AKIDB_API_KEYS"]) {
    const statefulset = templates().get("statefulset.yaml")!;
    const at = statefulset.indexOf(`name: ${name}`);
    assert.match(statefulset.slice(at, at + 120), /secretKeyRef/, `${name} comes from the Secret`);
  }
});

function hasPath(values: YamlValue, path: string[]): boolean {
  let node: YamlValue | undefined = values;
  for (const part of path) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return false;
    if (!Object.hasOwn(node, part)) return false;
    node = node[part];
  }
  return true;
}

Deno.test("helm: every .Values path in the templates exists in values.yaml", () => {
  const values = readYaml(`${CHART}/values.yaml`);
  for (const [name, text] of templates()) {
    for (const match of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      const path = match[1]!.slice(1).split(".");
      assert.ok(hasPath(values, path), `${name}: .Values.${path.join(".")} is not in values.yaml`);
    }
  }
});

Deno.test("helm: template actions balance and the StatefulSet is exact", () => {
  for (const [name, text] of templates()) {
    const actions = [...text.matchAll(/\{\{-?\s*(\/\*[\s\S]*?\*\/|[^}]*?)\s*-?\}\}/g)].map((m) =>
      m[1]!
    );
    assert.equal(
      (text.match(/\{\{/g) ?? []).length,
      (text.match(/\}\}/g) ?? []).length,
      `${name}: braces`,
    );
    const opens = actions.filter((a) => /^(if|range|with|define)\b/.test(a)).length;
    const ends = actions.filter((a) => /^end\b/.test(a)).length;
    assert.equal(opens, ends, `${name}: if/range/with/define vs end`);
    assert.ok(!/\t/.test(text), `${name}: tabs`);
  }
  const sts = templates().get("statefulset.yaml")!;
  assert.match(sts, /readinessProbe:\n\s+httpGet:\n\s+path: \/ready/);
  assert.match(sts, /livenessProbe:\n\s+httpGet:\n\s+path: \/health/);
  assert.match(sts, /volumeClaimTemplates:/);
  assert.match(sts, /podAntiAffinity:/);
  assert.match(sts, /mountPath: \{\{ \.Values\.config\.storage\.data_dir \}\}/);
  const values = readYaml(`${CHART}/values.yaml`);
  assert.equal((values.securityContext as YamlMap).readOnlyRootFilesystem, true);
  assert.equal((values.podSecurityContext as YamlMap).runAsNonRoot, true);
  for (const file of ["service.yaml", "configmap.yaml", "secret.yaml", "hpa.yaml"]) {
    assert.ok(templates().has(file), file);
  }
  for (const file of ["servicemonitor.yaml", "ingress.yaml", "NOTES.txt", "_helpers.tpl"]) {
    assert.ok(templates().has(file), file);
  }
  assert.match(templates().get("service.yaml")!, /clusterIP: None/, "a headless Service");
  assert.match(templates().get("secret.yaml")!, /if not \.Values\.auth\.existingSecret/);
});

function leafPaths(value: YamlValue, prefix: string): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [prefix];
  const keys = Object.keys(value);
  if (keys.length === 0 || prefix === "config") return [prefix];
  return keys.flatMap((key) => leafPaths(value[key]!, prefix === "" ? key : `${prefix}.${key}`));
}

Deno.test("helm: the README's table documents every value", () => {
  const values = readYaml(`${CHART}/values.yaml`);
  const readme = Deno.readTextFileSync(`${CHART}/README.md`);
  for (const path of leafPaths(values, "")) {
    assert.ok(readme.includes(`| \`${path}\``), `README.md: no row for ${path}`);
  }
});

Deno.test("helm: values.yaml agrees with PyYAML where it is installed", async () => {
  const probe = await new Deno.Command("python3", {
    args: [
      "-c",
      "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
      `${CHART}/values.yaml`,
    ],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  if (probe === undefined || !probe.success) {
    console.log("skipped: python3 with PyYAML is not installed (the subset reader still ran)");
    return;
  }
  const reference = JSON.parse(new TextDecoder().decode(probe.stdout));
  assert.deepEqual(readYaml(`${CHART}/values.yaml`), reference);
});
