import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { type Config, ConfigError, loadConfig } from "./mod.ts";

const KEY_A = "aaaaaaaaaaaaaaaa";
const KEY_B = "bbbbbbbbbbbbbbbbbbbb";

/** Loads with the given files in memory; reading any other path fails like the disk would. */
function load(
  args: readonly string[] = [],
  env: Record<string, string | undefined> = {},
  files: Record<string, string> = {},
): Config {
  return loadConfig(args, env, (path) => {
    const text = files[path];
    if (text === undefined) throw new Deno.errors.NotFound(`No such file or directory: ${path}`);
    return text;
  });
}

/** Expects a ConfigError with exactly this message. */
function rejects(message: string | RegExp, ...input: Parameters<typeof load>): ConfigError {
  return assertThrows(() => load(...input), ConfigError, message);
}

/** The defaults, spelled out from the specification rather than from the schema. */
const DEFAULTS: Config = {
  server: {
    host: "127.0.0.1",
    port: 8080,
    shutdownTimeoutMs: 10000,
    maxBodyBytes: 33554432,
    maxBatchPoints: 10000,
    parseWorkers: 1,
  },
  storage: { dataDir: "./data" },
  wal: { syncMode: { kind: "always" }, segmentSizeBytes: 67108864, maxPendingBytes: 67108864 },
  snapshot: {
    walBytesThreshold: 268435456,
    recordsThreshold: 0,
    intervalMs: 0,
    checkIntervalMs: 5000,
    retention: 3,
  },
  tier: {
    hotToWarmIdleMs: 3600000,
    warmToColdIdleMs: 86400000,
    checkIntervalMs: 30000,
    hotMemoryBudgetBytes: 0,
  },
  auth: { apiKeys: [] },
  log: { level: "info", format: "json" },
  index: {
    defaultM: 16,
    defaultEfConstruction: 200,
    defaultEfSearch: 64,
    tailMaxMib: 16,
    admitWaitMs: 10000,
    compactTombstoneRatio: 0.2,
  },
  s3: undefined,
  metrics: { public: false },
  tracing: { enabled: false, sampleRatio: 0.01, otlpEndpoint: "http://127.0.0.1:4318" },
  configFile: undefined,
  warnings: [],
};

Deno.test("no input gives the documented defaults", () => {
  assertEquals(load(), DEFAULTS);
});

Deno.test("precedence: defaults < file < env < flags, key by key", () => {
  const files = { "a.toml": '[server]\nport = 1001\nhost = "10.0.0.1"\n[log]\nlevel = "warn"\n' };
  const env = { AKIDB_CONFIG: "a.toml", AKIDB_PORT: "1002", AKIDB_LOG_LEVEL: "error" };
  const config = load(["--port", "1003"], env, files);
  assertEquals(
    [config.server.port, config.log.level, config.server.host, config.storage.dataDir],
    [1003, "error", "10.0.0.1", "./data"],
  );
  assertEquals(config.configFile, "a.toml");
  assertEquals(load([], env, files).server.port, 1002);
  assertEquals(load([], { AKIDB_CONFIG: "a.toml" }, files).server.port, 1001);
});

Deno.test("--config wins over AKIDB_CONFIG; both flag spellings work", () => {
  const files = { "a.toml": "[server]\nport = 1\n", "b.toml": "[server]\nport = 2\n" };
  assertEquals(load(["--config", "b.toml"], { AKIDB_CONFIG: "a.toml" }, files).server.port, 2);
  assertEquals(load(["--config=b.toml"], {}, files).configFile, "b.toml");
  assertEquals(load(["--port=7", "--port", "8"]).server.port, 8, "the last flag wins");
  assertEquals(load(["--host=::"]).server.host, "::");
});

Deno.test("error messages name the key, the origin and the bad value", () => {
  rejects(
    'Cannot read config: server.port from AKIDB_PORT is "abc", expected an integer 1..65535',
    [],
    { AKIDB_PORT: "abc" },
  );
  rejects('Cannot read config: server.port from --port is "0", expected an integer 1..65535', [
    "--port=0",
  ]);
  rejects(
    'Cannot read config: server.port from file "c.toml" is "8080", expected an integer 1..65535',
    ["--config", "c.toml"],
    {},
    { "c.toml": '[server]\nport = "8080"\n' },
  );
  rejects(
    'Cannot read config: log.level from AKIDB_LOG_LEVEL is "verbose", expected one of debug, info, warn, error',
    [],
    { AKIDB_LOG_LEVEL: "verbose" },
  );
  rejects(
    'Cannot read config: server.port from file "c.toml" is 99999999999999999999, expected an integer 1..65535',
    ["--config", "c.toml"],
    {},
    { "c.toml": "[server]\nport = 99999999999999999999\n" },
  );
  const error = rejects(/^Cannot read config: wal.sync_mode from --wal-sync-mode is "sometimes"/, [
    "--wal-sync-mode",
    "sometimes",
  ]);
  assertEquals([error.key, error.origin], ["wal.sync_mode", "--wal-sync-mode"]);
});

Deno.test("an invalid file value is an error even when env or a flag overrides it", () => {
  const files = { "c.toml": "[server]\nport = -1\n" };
  rejects(
    /server.port from file "c.toml" is -1/,
    ["--port", "80", "--config", "c.toml"],
    {},
    files,
  );
});

Deno.test("unknown TOML sections and keys are errors, with a hint", () => {
  const files = {
    "s.toml": "[sever]\nport = 1\n",
    "k.toml": "[server]\nprot = 1\n",
    "t.toml": "server = 1\n",
    "n.toml": "[server.tls]\ncert = 1\n",
    "x.toml": "[wibble]\n",
  };
  const file = (name: string) => ["--config", name];
  rejects(
    'Cannot read config: unknown section [sever] in file "s.toml" (did you mean [server]?)',
    file("s.toml"),
    {},
    files,
  );
  rejects(
    'Cannot read config: unknown key server.prot in file "k.toml" (did you mean server.port?)',
    file("k.toml"),
    {},
    files,
  );
  rejects(
    'Cannot read config: server in file "t.toml" is not a [server] table',
    file("t.toml"),
    {},
    files,
  );
  rejects(/unknown key server.tls in file "n.toml"$/, file("n.toml"), {}, files);
  rejects(
    'Cannot read config: unknown section [wibble] in file "x.toml"',
    file("x.toml"),
    {},
    files,
  );
});

Deno.test("unreadable and malformed files are errors naming the file", () => {
  const missing = rejects(/^Cannot read config file "nope.toml": No such file or directory/, [
    "--config",
    "nope.toml",
  ]);
  assert(missing.cause instanceof Deno.errors.NotFound);
  rejects(
    /^Cannot read config file "bad.toml": not valid TOML at line 2, column \d+: Invalid TOML document/,
    ["--config", "bad.toml"],
    {},
    { "bad.toml": "[server]\nport = = 1\n" },
  );
  rejects(/not valid TOML/, ["--config", "p.toml"], {}, { "p.toml": "__proto__ = 1\n" });
});

Deno.test("flags: unknown ones, missing values and positional arguments are errors", () => {
  rejects("Cannot read config: unknown flag --prot (did you mean --port?)", ["--prot", "1"]);
  rejects("Cannot read config: unknown flag --shutdown-timeout-ms", ["--shutdown-timeout-ms", "1"]);
  rejects("Cannot read config: unknown flag --help", ["--help"]);
  rejects("Cannot read config: flag --port needs a value", ["--port"]);
  rejects("Cannot read config: flag --host needs a value", ["--host", "--port", "1"]);
  rejects("Cannot read config: flag --config needs a value", ["--config"]);
  rejects('Cannot read config: unexpected argument "serve", expected --flag value pairs', [
    "serve",
  ]);
  rejects(/unexpected argument "-h"/, ["-h"]);
});

Deno.test("env: unknown AKIDB_* variables are warnings; others, AKIDB_TEST_* and empty ones are ignored", () => {
  const config = load([], {
    AKIDB_PROT: "1",
    AKIDB_WHATEVER: "x",
    AKIDB_TEST_S3_ENDPOINT: "http://x",
    HOME: "/root",
    AKIDB_PORT: "",
    AKIDB_HOST: "  ",
    AKIDB_DATA_DIR: undefined,
  });
  assertEquals(config.warnings, [
    "Ignoring environment variable AKIDB_PROT: not a setting (did you mean AKIDB_PORT?)",
    "Ignoring environment variable AKIDB_WHATEVER: not a setting",
  ]);
  assertEquals([config.server.port, config.server.host, config.storage.dataDir], [
    8080,
    "127.0.0.1",
    "./data",
  ]);
});

Deno.test("text values are trimmed; booleans and levels accept any case", () => {
  const config = load(["--log-level", " DEBUG "], {
    AKIDB_PORT: " 81 ",
    AKIDB_METRICS_PUBLIC: "TRUE",
  });
  assertEquals([config.log.level, config.server.port, config.metrics.public], ["debug", 81, true]);
  assertEquals(load([], { AKIDB_METRICS_PUBLIC: "0" }).metrics.public, false);
  rejects(/metrics.public from AKIDB_METRICS_PUBLIC is "yes", expected true or false/, [], {
    AKIDB_METRICS_PUBLIC: "yes",
  });
});

Deno.test("wal.sync_mode parses to a discriminated union", () => {
  assertEquals(load(["--wal-sync-mode", "none"]).wal.syncMode, { kind: "none" });
  assertEquals(load([], { AKIDB_WAL_SYNC_MODE: "interval:250" }).wal.syncMode, {
    kind: "interval",
    intervalMs: 250,
  });
  for (
    const bad of [
      "interval:",
      "interval:0",
      "interval:60001",
      "interval:1.5",
      "Always2",
      "interval",
    ]
  ) {
    rejects(
      /^Cannot read config: wal.sync_mode from --wal-sync-mode is .*, expected always, none or interval:<ms> with ms 1..60000$/,
      [
        "--wal-sync-mode",
        bad,
      ],
    );
  }
});

Deno.test("api keys: comma list or TOML array, :ro marks read-only", () => {
  assertEquals(load(["--api-keys", ` ${KEY_A} , ${KEY_B}:ro `]).auth.apiKeys, [
    { key: KEY_A, readOnly: false },
    { key: KEY_B, readOnly: true },
  ]);
  const files = {
    "arr.toml": `[auth]\napi_keys = ["${KEY_A}:ro"]\n`,
    "str.toml": `[auth]\napi_keys = "${KEY_A},${KEY_B}"\n`,
  };
  assertEquals(load(["--config", "arr.toml"], {}, files).auth.apiKeys, [{
    key: KEY_A,
    readOnly: true,
  }]);
  assertEquals(load(["--config", "str.toml"], {}, files).auth.apiKeys.length, 2);
  assertEquals(
    load(["--api-keys="], {}, {}).auth.apiKeys,
    [],
    "an explicit empty flag turns auth off",
  );
});

Deno.test("api keys: short, repeated or odd keys are rejected without quoting any key", () => {
  const cases: readonly [string, string][] = [
    ["short:ro", "keys of 16..256 characters, but key 1 of 1 has 5 characters"],
    [`${KEY_A},short`, "keys of 16..256 characters, but key 2 of 2 has 5 characters"],
    [`${KEY_A},`, "keys of 16..256 characters, but key 2 of 2 has 0 characters"],
    [`${KEY_A},${KEY_A}:ro`, "distinct keys, but key 2 of 2 repeats an earlier one"],
    [`${KEY_A}é`, "printable ASCII keys without commas, but key 1 of 1 is not"],
    ["a b c d e f g h i j", "printable ASCII keys without commas, but key 1 of 1 is not"],
  ];
  for (const [value, reason] of cases) {
    const error = rejects(
      `Cannot read config: auth.api_keys from AKIDB_API_KEYS is <redacted>, expected ${reason}`,
      [],
      { AKIDB_API_KEYS: value },
    );
    assert(!error.message.includes(KEY_A), "a key leaked into the message");
  }
  rejects(
    /api_keys from file "k.toml" is <redacted>, expected a string or an array of strings$/,
    [
      "--config",
      "k.toml",
    ],
    {},
    { "k.toml": "[auth]\napi_keys = [1, 2]\n" },
  );
});

Deno.test("s3 is undefined without a bucket and complete with one", () => {
  const env = {
    AKIDB_S3_BUCKET: "akidb-cold",
    AKIDB_S3_ENDPOINT: "http://127.0.0.1:9000",
    AKIDB_S3_PREFIX: "/prod/eu/",
    AKIDB_S3_ACCESS_KEY_ID: "S3RVER",
    AKIDB_S3_SECRET_ACCESS_KEY: "S3RVER",
  };
  assertEquals(load([], env).s3, {
    endpoint: "http://127.0.0.1:9000",
    region: "us-east-1",
    bucket: "akidb-cold",
    prefix: "prod/eu",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    forcePathStyle: true,
  });
  const aws = load([], { AKIDB_S3_BUCKET: "b.example", AKIDB_S3_REGION: "eu-west-1" }).s3;
  assertEquals([aws?.endpoint, aws?.region, aws?.accessKeyId], [undefined, "eu-west-1", undefined]);
  assertEquals(load([], { AKIDB_S3_BUCKET: "" }).s3, undefined);
});

Deno.test("s3: invalid names, half credentials and settings without a bucket", () => {
  rejects(
    /s3.bucket from AKIDB_S3_BUCKET is "My_Bucket", expected an S3 bucket name, or empty/,
    [],
    {
      AKIDB_S3_BUCKET: "My_Bucket",
    },
  );
  rejects(/s3.endpoint from AKIDB_S3_ENDPOINT is "minio:9000", expected an http/, [], {
    AKIDB_S3_ENDPOINT: "minio:9000",
  });
  rejects(/s3.prefix from AKIDB_S3_PREFIX is "a\/\/b"/, [], { AKIDB_S3_PREFIX: "a//b" });
  rejects(
    "Cannot read config: s3.access_key_id (from AKIDB_S3_ACCESS_KEY_ID) is set but s3.secret_access_key is not, expected both or neither",
    [],
    { AKIDB_S3_BUCKET: "bucket", AKIDB_S3_ACCESS_KEY_ID: "id" },
  );
  const secretError = rejects(
    /s3.secret_access_key from AKIDB_S3_SECRET_ACCESS_KEY is <redacted>/,
    [],
    {
      AKIDB_S3_SECRET_ACCESS_KEY: "has space",
    },
  );
  assert(!secretError.message.includes("has space"));
  assertEquals(load([], { AKIDB_S3_ENDPOINT: "http://minio:9000" }).warnings, [
    "Ignoring s3.endpoint from AKIDB_S3_ENDPOINT: s3.bucket is not set, S3 is off",
  ]);
});

Deno.test("listening beyond loopback without API keys warns", () => {
  assertEquals(load(["--host", "0.0.0.0"]).warnings, [
    "Authentication is off (no auth.api_keys) while listening on 0.0.0.0",
  ]);
  assertEquals(load(["--host", "0.0.0.0", "--api-keys", KEY_A]).warnings, []);
  assertEquals(load(["--host", "localhost"]).warnings, []);
});

Deno.test("a full TOML file sets every section", () => {
  const toml = `
[server]
shutdown_timeout_ms = 0
max_body_bytes = 1_048_576
max_batch_points = 500
[storage]
data_dir = "/var/lib/akidb"
[wal]
sync_mode = "interval:5"
segment_size_bytes = 1048576
max_pending_bytes = 2097152
[log]
format = "text"
[index]
default_m = 32
default_ef_construction = 400
default_ef_search = 128
tail_max_mib = 64
admit_wait_ms = 30000
compact_tombstone_ratio = 0.5
[metrics]
public = true
[tracing]
enabled = true
sample_ratio = 1
otlp_endpoint = "https://otel.example:4318"
`;
  const config = load(["--config", "f.toml"], {}, { "f.toml": toml });
  assertEquals(config.server, {
    ...DEFAULTS.server,
    shutdownTimeoutMs: 0,
    maxBodyBytes: 1048576,
    maxBatchPoints: 500,
  });
  assertEquals(config.wal, {
    syncMode: { kind: "interval", intervalMs: 5 },
    segmentSizeBytes: 1048576,
    maxPendingBytes: 2097152,
  });
  assertEquals(config.index, {
    defaultM: 32,
    defaultEfConstruction: 400,
    defaultEfSearch: 128,
    tailMaxMib: 64,
    compactTombstoneRatio: 0.5,
    admitWaitMs: 30000,
  });
  assertEquals([config.storage.dataDir, config.log.format, config.metrics.public], [
    "/var/lib/akidb",
    "text",
    true,
  ]);
  assertEquals(config.tracing, {
    enabled: true,
    sampleRatio: 1,
    otlpEndpoint: "https://otel.example:4318",
  });
});

Deno.test("limits bound the configurable values", () => {
  rejects(
    /server.max_body_bytes from AKIDB_MAX_BODY_BYTES is "1024", expected an integer 1048576..1073741824/,
    [],
    {
      AKIDB_MAX_BODY_BYTES: "1024",
    },
  );
  rejects(
    /index.default_m from file "i.toml" is 65, expected an integer 2..64/,
    ["--config", "i.toml"],
    {},
    {
      "i.toml": "[index]\ndefault_m = 65\n",
    },
  );
  rejects(
    /tracing.sample_ratio from file "r.toml" is 1.5, expected a number 0..1/,
    ["--config", "r.toml"],
    {},
    {
      "r.toml": "[tracing]\nsample_ratio = 1.5\n",
    },
  );
  rejects(/server.max_batch_points from AKIDB_MAX_BATCH_POINTS is "1e3"/, [], {
    AKIDB_MAX_BATCH_POINTS: "1e3",
  });
});

Deno.test("the config is deeply frozen", () => {
  const config = load(["--api-keys", KEY_A, "--wal-sync-mode", "interval:9"], {
    AKIDB_S3_BUCKET: "bucket",
  });
  const frozen = [
    config,
    config.server,
    config.wal.syncMode,
    config.auth.apiKeys,
    config.auth.apiKeys[0],
    config.s3,
    config.warnings,
  ];
  for (const part of frozen) assert(Object.isFrozen(part), `not frozen: ${JSON.stringify(part)}`);
});
