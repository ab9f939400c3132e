/**
 * Packaging, part 2: the Dockerfile, .dockerignore, docker-compose.yml and
 * the compose Prometheus config, checked without a Docker engine: structure of
 * the image (multi-stage, non-root, volume, port, curl-free healthcheck), its
 * built-in config and every AKIDB_* setting through the server's own parser,
 * compose ports and mounts, and `promtool check config` where promtool exists.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CONFIG_KEYS, loadConfig } from "../src/config/mod.ts";
import { parseYamlSubset, type YamlValue } from "../scripts/lib/yaml_subset.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DOCKERFILE = Deno.readTextFileSync(`${ROOT}Dockerfile`);
const SERVER_ENV = new Set(["AKIDB_CONFIG", ...CONFIG_KEYS.flatMap((k) => k.descriptor.env ?? [])]);
type YamlMap = { [key: string]: YamlValue };

/** The Dockerfile's instructions of one stage (continuation lines joined). */
function stage(name: string): string[] {
  const joined = DOCKERFILE.replace(/\\\n\s*/g, " ");
  const lines = joined.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
  const start = lines.findIndex((l) => new RegExp(`^FROM \\S+ AS ${name}$`).test(l));
  assert.ok(start >= 0, `stage ${name}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith("FROM "));
  return lines.slice(start, end < 0 ? undefined : end);
}

Deno.test("container: multi-stage, non-root, volume, port, curl-free healthcheck", () => {
  assert.ok((DOCKERFILE.match(/^FROM /gm) ?? []).length >= 2);
  const build = stage("build").join("\n");
  assert.match(build, /deno task build/, "builds the kernel");
  assert.match(build, /deno task compile --target "\$target"/, "builds the binary");
  const runtime = stage("runtime");
  const user = runtime.find((l) => l.startsWith("USER "));
  assert.match(user ?? "", /^USER [1-9][0-9]*:[1-9][0-9]*$/, "a non-root numeric user");
  assert.ok(runtime.includes('VOLUME ["/var/lib/akidb"]'));
  assert.ok(runtime.includes("EXPOSE 8080"));
  const health = runtime.find((l) => l.startsWith("HEALTHCHECK "));
  assert.match(health ?? "", /CMD \["\/usr\/local\/bin\/akidb", "healthcheck"\]/);
  assert.doesNotMatch(health ?? "", /curl|wget/);
  assert.match(DOCKERFILE, /^FROM runtime$/m, "the binary image is the default target");
  for (const match of DOCKERFILE.matchAll(/AKIDB_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])/g)) {
    assert.ok(SERVER_ENV.has(match[0]), `${match[0]} is not read by the server`);
  }
});

Deno.test("container: the image's /etc/akidb/config.toml loads through the server's parser", () => {
  const match = /COPY <<'EOF_CONFIG' \/out\/etc\/akidb\/config\.toml\n([\s\S]*?)\nEOF_CONFIG\n/
    .exec(
      DOCKERFILE,
    );
  assert.ok(match !== null, "the heredoc config");
  const config = loadConfig([], { AKIDB_CONFIG: "/etc/akidb/config.toml" }, () => match[1]!);
  assert.equal(config.server.host, "0.0.0.0");
  assert.equal(config.server.port, 8080);
  assert.equal(config.storage.dataDir, "/var/lib/akidb");
});

Deno.test("container: .dockerignore keeps dependencies, builds and git out of the context", () => {
  const ignored = Deno.readTextFileSync(`${ROOT}.dockerignore`).split("\n").map((l) => l.trim());
  for (const entry of [".git", "node_modules", "dist", "wasm-kernels/build", "data"]) {
    assert.ok(ignored.includes(entry), entry);
  }
  for (const needed of ["src", "scripts", "wasm-kernels", "package.json", "deno.json"]) {
    assert.ok(!ignored.includes(needed), `${needed} is needed by the build stage`);
  }
});

Deno.test("compose: services, distinct ports, mounts that exist, settings the server accepts", () => {
  const compose = parseYamlSubset(Deno.readTextFileSync(`${ROOT}docker-compose.yml`)) as YamlMap;
  const services = compose.services as { [name: string]: YamlMap };
  for (const name of ["akidb", "minio", "prometheus", "grafana"]) assert.ok(services[name], name);
  const hostPorts = Object.values(services).flatMap((s) =>
    ((s.ports ?? []) as string[]).map((p) => p.split(":")[0]!)
  );
  assert.deepEqual(hostPorts.length, new Set(hostPorts).size, `ports ${hostPorts}`);
  assert.ok(hostPorts.includes("8080") && hostPorts.includes("9090"));
  for (const service of Object.values(services)) {
    for (const volume of (service.volumes ?? []) as string[]) {
      if (!volume.startsWith("./")) continue;
      const path = volume.split(":")[0]!;
      assert.ok(Deno.statSync(`${ROOT}${path}`), `${path} exists`);
    }
  }
  const env = services.akidb!.environment as Record<string, string>;
  for (const name of Object.keys(env)) assert.ok(SERVER_ENV.has(name), name);
  const config = loadConfig([], env);
  assert.equal(config.s3?.bucket, "akidb");
  assert.equal(config.s3?.endpoint, "http://minio:9000");
  assert.equal(config.metrics.public, true);
  const grafanaEnv = services.grafana!.environment as Record<string, string>;
  assert.equal(grafanaEnv.PROMETHEUS_URL, "http://prometheus:9090", "the datasource's variable");
});

Deno.test("compose: the Prometheus config scrapes akidb:8080 and passes promtool", async () => {
  const path = `${ROOT}deploy/prometheus/prometheus-compose.yml`;
  const prom = parseYamlSubset(Deno.readTextFileSync(path)) as YamlMap;
  assert.match(JSON.stringify(prom.scrape_configs), /"akidb:8080"/);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("promtool", {
      args: ["check", "config", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    console.log("skipped promtool: not installed (apt-get install prometheus; .ci/run does)");
    return;
  }
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.ok(output.success, text);
  assert.match(text, /SUCCESS: 1 rule files found/);
});
