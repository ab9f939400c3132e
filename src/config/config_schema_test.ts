import { assert, assertEquals } from "./_assert.ts";
import { CONFIG_KEYS, CONFIG_SCHEMA, renderHelp } from "./mod.ts";

Deno.test("the names every deployment file relies on are declared", () => {
  const byPath = new Map(CONFIG_KEYS.map((key) => [key.path, key.descriptor]));
  const required: readonly [string, string, string | undefined][] = [
    ["server.host", "AKIDB_HOST", "--host"],
    ["server.port", "AKIDB_PORT", "--port"],
    ["storage.data_dir", "AKIDB_DATA_DIR", "--data-dir"],
    ["auth.api_keys", "AKIDB_API_KEYS", "--api-keys"],
    ["log.level", "AKIDB_LOG_LEVEL", "--log-level"],
    ["wal.sync_mode", "AKIDB_WAL_SYNC_MODE", "--wal-sync-mode"],
    ["server.max_body_bytes", "AKIDB_MAX_BODY_BYTES", undefined],
    ["server.max_batch_points", "AKIDB_MAX_BATCH_POINTS", undefined],
    ["s3.endpoint", "AKIDB_S3_ENDPOINT", undefined],
    ["s3.region", "AKIDB_S3_REGION", undefined],
    ["s3.bucket", "AKIDB_S3_BUCKET", undefined],
    ["s3.prefix", "AKIDB_S3_PREFIX", undefined],
    ["s3.access_key_id", "AKIDB_S3_ACCESS_KEY_ID", undefined],
    ["s3.secret_access_key", "AKIDB_S3_SECRET_ACCESS_KEY", undefined],
    ["metrics.public", "AKIDB_METRICS_PUBLIC", undefined],
  ];
  for (const [path, env, flag] of required) {
    const descriptor = byPath.get(path);
    assertEquals([descriptor?.env, descriptor?.flag], [env, flag], path);
  }
  assertEquals(CONFIG_KEYS.length, 39);
});

Deno.test("the table is consistent: unique names, well-formed docs, secrets marked", () => {
  const envs = CONFIG_KEYS.flatMap((key) => key.descriptor.env ?? []);
  const flags = CONFIG_KEYS.flatMap((key) => key.descriptor.flag ?? []);
  assertEquals(new Set(envs).size, envs.length, "duplicate env names");
  assertEquals(new Set(flags).size, flags.length, "duplicate flags");
  assert(!envs.includes("AKIDB_CONFIG") && !flags.includes("--config"), "--config is reserved");
  for (const key of CONFIG_KEYS) {
    const { env, flag, doc } = key.descriptor;
    assert(/^[a-z][a-z0-9]*\.[a-z][a-z0-9_]*$/.test(key.path), `bad path ${key.path}`);
    assert(env === undefined || /^AKIDB_[A-Z0-9_]+$/.test(env), `bad env ${env}`);
    assert(env === undefined || !env.startsWith("AKIDB_TEST_"), `${env} would be skipped`);
    assert(flag === undefined || /^--[a-z]+(-[a-z]+)*$/.test(flag), `bad flag ${flag}`);
    assert(doc.length > 0 && !doc.endsWith(".") && !doc.includes("\n"), `bad doc of ${key.path}`);
  }
  const secrets = CONFIG_KEYS.filter((key) => key.descriptor.secret === true).map((key) =>
    key.path
  );
  assertEquals(secrets, ["auth.api_keys", "s3.access_key_id", "s3.secret_access_key"]);
  assert(Object.isFrozen(CONFIG_SCHEMA.server.port.type), "the schema is frozen");
});

Deno.test("every default prints as TOML and as text that parse back to itself", () => {
  for (const key of CONFIG_KEYS) {
    const { type } = key.descriptor;
    const toml = type.toToml(key.descriptor.default);
    const viaToml = type.fromToml(JSON.parse(toml));
    assert(viaToml.ok, `${key.path}: ${toml} does not parse`);
    assertEquals(viaToml.value, key.descriptor.default, key.path);
  }
});

Deno.test("non-default values round-trip through TOML too", () => {
  const samples: readonly [keyof typeof CONFIG_SCHEMA, string, unknown][] = [
    ["wal", "syncMode", { kind: "interval", intervalMs: 100 }],
    ["wal", "syncMode", { kind: "none" }],
    ["auth", "apiKeys", [{ key: "k".repeat(16), readOnly: true }, {
      key: "j".repeat(20),
      readOnly: false,
    }]],
    ["s3", "bucket", "bucket"],
    ["tracing", "sampleRatio", 0.25],
    ["tracing", "sampleRatio", 1],
  ];
  for (const [section, property, value] of samples) {
    const key = CONFIG_KEYS.find((k) => k.section === section && k.property === property);
    assert(key !== undefined, property);
    const toml = key.descriptor.type.toToml(value);
    const parsed = key.descriptor.type.fromToml(JSON.parse(toml));
    assert(parsed.ok, `${toml} does not parse`);
    assertEquals(parsed.value, value, toml);
  }
});

Deno.test("help lists every flag and environment variable and every file-only key", () => {
  const help = renderHelp();
  for (const key of CONFIG_KEYS) {
    assert(help.includes(`      ${key.descriptor.doc}\n`), `help misses the doc of ${key.path}`);
    const { flag, env } = key.descriptor;
    if (flag !== undefined) assert(help.includes(`  ${flag} <`), `help misses ${flag}`);
    if (env !== undefined) assert(help.includes(env), `help misses ${env}`);
    if (flag === undefined && env === undefined) {
      assert(help.includes(`  ${key.path} = `), key.path);
    }
  }
  assert(help.includes("  --config <path>\n"));
});
