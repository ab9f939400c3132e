/**
 * The one table of configuration keys. Each key is declared once with its
 * type, default, environment variable, flag and documentation; parsing of the
 * TOML file, the environment and the flags, the `--help` text,
 * `config.example.toml` and the {@linkcode Config} type all derive from it.
 *
 * A key's TOML name is its section plus its camelCase name in snake_case:
 * `server.shutdownTimeoutMs` is `[server] shutdown_timeout_ms`.
 *
 * @module
 */

import { LIMITS } from "../limits.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../obs/logger.ts";
import {
  type ApiKey,
  apiKeysType,
  booleanType,
  choiceType,
  integerType,
  optionalType,
  ratioType,
  s3PrefixType,
  stringType,
  urlType,
  type ValueType,
  type WalSyncMode,
  walSyncModeType,
} from "./_value_types.ts";
import { deepFreeze } from "./_deep_freeze.ts";

export type { ApiKey, ValueType, WalSyncMode };

/** The declaration of one configuration key. */
export interface KeyDescriptor<T> {
  /** How the value parses and prints. */
  readonly type: ValueType<T>;
  /** The built-in default. */
  readonly default: T;
  /** The environment variable that sets it, if any (`AKIDB_PORT`). */
  readonly env?: string;
  /** The command-line flag that sets it, if any (`--port`). */
  readonly flag?: string;
  /** One line for humans: what it does, its unit. */
  readonly doc: string;
  /** True for secrets: error messages and summaries never show the value. */
  readonly secret?: boolean;
}

/**
 * Declares a key, checking that its default has the key's type.
 *
 * @param descriptor The declaration.
 * @returns The same declaration, typed.
 */
function key<T>(
  descriptor: Omit<KeyDescriptor<T>, "default"> & { readonly default: NoInfer<T> },
): KeyDescriptor<T> {
  return descriptor;
}

const MiB = 1024 * 1024;
const hostname = /^[A-Za-z0-9._:%-]+$/;
const printable = /^[\x21-\x7E]+$/;
const bucketName = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The configuration keys by section. See the module documentation.
 *
 * @example
 * ```ts
 * import { CONFIG_SCHEMA } from "./config_schema.ts";
 * const port = CONFIG_SCHEMA.server.port;
 * if (port.default !== 8080 || port.env !== "AKIDB_PORT" || port.flag !== "--port") {
 *   throw new Error("unexpected server.port declaration");
 * }
 * ```
 */
export const CONFIG_SCHEMA = deepFreeze(
  {
    server: {
      host: key({
        type: stringType("a hostname or IP address", "<host>", hostname),
        default: "127.0.0.1",
        env: "AKIDB_HOST",
        flag: "--host",
        doc: "Address the HTTP API listens on; 0.0.0.0 or :: for every interface",
      }),
      port: key({
        type: integerType(1, 65535),
        default: 8080,
        env: "AKIDB_PORT",
        flag: "--port",
        doc: "TCP port of the HTTP API",
      }),
      shutdownTimeoutMs: key({
        type: integerType(LIMITS.shutdownTimeoutMsMin, LIMITS.shutdownTimeoutMsMax),
        default: LIMITS.shutdownTimeoutMsDefault,
        doc: "How long a graceful shutdown waits for requests in flight, in milliseconds",
      }),
      maxBodyBytes: key({
        type: integerType(LIMITS.bodyBytesMin, LIMITS.bodyBytesMax),
        default: LIMITS.bodyBytesDefault,
        env: "AKIDB_MAX_BODY_BYTES",
        doc: `Largest request body in bytes (${
          LIMITS.bodyBytesDefault / MiB
        } MiB); larger ones get 413`,
      }),
      maxBatchPoints: key({
        type: integerType(LIMITS.batchPointsMin, LIMITS.batchPointsMax),
        default: LIMITS.batchPointsDefault,
        env: "AKIDB_MAX_BATCH_POINTS",
        doc: "Most points in one upsert request",
      }),
      parseWorkers: key({
        type: integerType(0, 64),
        default: 1,
        doc: "Workers that parse and validate large upsert bodies off the request thread " +
          "(one per spare core); 0 = parse on the request thread",
      }),
    },
    storage: {
      dataDir: key({
        type: stringType("a non-empty path", "<path>", /^.+$/s),
        default: "./data",
        env: "AKIDB_DATA_DIR",
        flag: "--data-dir",
        doc: "Directory of the catalog, WAL and snapshots; relative to the working directory",
      }),
    },
    wal: {
      syncMode: key({
        type: walSyncModeType(LIMITS.walSyncIntervalMsMin, LIMITS.walSyncIntervalMsMax),
        default: { kind: "always" },
        env: "AKIDB_WAL_SYNC_MODE",
        flag: "--wal-sync-mode",
        doc: "When writes are fsync'd: always (before each ack), interval:<ms>, or none (unsafe)",
      }),
      segmentSizeBytes: key({
        type: integerType(LIMITS.walSegmentBytesMin, LIMITS.walSegmentBytesMax),
        default: LIMITS.walSegmentBytesDefault,
        doc: `Size at which a WAL segment is closed and a new one started, in bytes (${
          LIMITS.walSegmentBytesDefault / MiB
        } MiB)`,
      }),
      maxPendingBytes: key({
        type: integerType(LIMITS.walPendingBytesMin, LIMITS.walPendingBytesMax),
        default: LIMITS.walPendingBytesDefault,
        doc: `Bound on WAL bytes written but not yet fsync'd, in bytes (${
          LIMITS.walPendingBytesDefault / MiB
        } MiB)`,
      }),
    },
    snapshot: {
      walBytesThreshold: key({
        type: integerType(0, Number.MAX_SAFE_INTEGER),
        default: 256 * MiB,
        doc: "Take a snapshot once this many WAL bytes were written since the last one; 0 = off",
      }),
      recordsThreshold: key({
        type: integerType(0, Number.MAX_SAFE_INTEGER),
        default: 0,
        doc: "Take a snapshot once this many WAL records were written since the last one; 0 = off",
      }),
      intervalMs: key({
        type: integerType(0, 365 * 24 * 3_600_000),
        default: 0,
        doc: "Take a snapshot of a changed collection at least this often, in ms; 0 = off",
      }),
      checkIntervalMs: key({
        type: integerType(100, 3_600_000),
        default: 5_000,
        doc: "How often the thresholds above are checked, in ms",
      }),
      retention: key({
        type: integerType(1, 1000),
        default: 3,
        doc: "Snapshots kept per collection; older ones are deleted after each new snapshot",
      }),
    },
    tier: {
      hotToWarmIdleMs: key({
        type: integerType(0, 365 * 24 * 3_600_000),
        default: 3_600_000,
        doc: "Demote a hot collection to warm (memory freed) after this long without access, " +
          "in ms; 0 = never",
      }),
      warmToColdIdleMs: key({
        type: integerType(0, 365 * 24 * 3_600_000),
        default: 24 * 3_600_000,
        doc: "Demote a warm collection to cold (S3 only; needs [s3]) after this long without " +
          "access, in ms; 0 = never",
      }),
      checkIntervalMs: key({
        type: integerType(100, 3_600_000),
        default: 30_000,
        doc: "How often the tier rules are applied, in ms",
      }),
      hotMemoryBudgetBytes: key({
        type: integerType(0, Number.MAX_SAFE_INTEGER),
        default: 0,
        doc: "Most index memory of hot collections, in bytes; beyond it the least recently " +
          "used unpinned ones are demoted to warm; 0 = unlimited",
      }),
    },
    auth: {
      apiKeys: key({
        type: apiKeysType({
          lengthMin: LIMITS.apiKeyLengthMin,
          lengthMax: LIMITS.apiKeyLengthMax,
          countMax: LIMITS.apiKeysMax,
        }),
        default: [],
        env: "AKIDB_API_KEYS",
        flag: "--api-keys",
        doc: `API keys (≥ ${LIMITS.apiKeyLengthMin} chars), comma-separated or an array; ` +
          `suffix :ro for read-only; none = auth off`,
        secret: true,
      }),
    },
    log: {
      level: key({
        type: choiceType(LOG_LEVELS),
        default: "info",
        env: "AKIDB_LOG_LEVEL",
        flag: "--log-level",
        doc: "Lowest level logged: debug, info, warn or error",
      }),
      format: key({
        type: choiceType(LOG_FORMATS),
        default: "json",
        env: "AKIDB_LOG_FORMAT",
        doc: "Log line format on stderr: json (one object per line) or text",
      }),
    },
    index: {
      defaultM: key({
        type: integerType(LIMITS.mMin, LIMITS.mMax),
        default: LIMITS.mDefault,
        doc: "HNSW m (links per node) of collections created without one",
      }),
      defaultEfConstruction: key({
        type: integerType(LIMITS.efConstructionMin, LIMITS.efConstructionMax),
        default: LIMITS.efConstructionDefault,
        doc: "HNSW ef_construction of collections created without one",
      }),
      defaultEfSearch: key({
        type: integerType(LIMITS.efSearchMin, LIMITS.efSearchMax),
        default: LIMITS.efSearchDefault,
        doc: "HNSW ef_search of collections created without one; a query may override it with ef",
      }),
      tailMaxMib: key({
        type: integerType(1, 4096),
        default: 16,
        doc: "Most MiB of vectors per collection acknowledged but not yet in the graph (searched " +
          "exactly); writes beyond wait for graph building. Larger takes bigger ingest bursts at " +
          "full speed, smaller keeps searches during ingest fast (16 MiB scans in ≈ 1 ms)",
      }),
      admitWaitMs: key({
        type: integerType(0, 600_000),
        default: 10_000,
        doc: "How long a write waits for room in that bound before it fails with 503 " +
          "index_backpressure (nothing written; retry later)",
      }),
      compactTombstoneRatio: key({
        type: ratioType(),
        default: 0.2,
        doc:
          "Share of a graph's slots that are deleted or replaced points (with at least 1000 of " +
          "them) at which it is rebuilt without them in the background, the old graph serving " +
          "meanwhile (needs memory for a second graph while it runs); 1 = only when all are",
      }),
    },
    s3: {
      endpoint: key({
        type: optionalType(urlType()),
        default: undefined,
        env: "AKIDB_S3_ENDPOINT",
        doc: "S3 endpoint URL, e.g. http://minio:9000; empty for AWS S3",
      }),
      region: key({
        type: stringType("an S3 region name", "<region>", /^[A-Za-z0-9_-]+$/),
        default: "us-east-1",
        env: "AKIDB_S3_REGION",
        doc: "S3 region",
      }),
      bucket: key({
        type: optionalType(stringType("an S3 bucket name", "<bucket>", bucketName)),
        default: undefined,
        env: "AKIDB_S3_BUCKET",
        doc: "Bucket of the cold tier and snapshot uploads; empty = S3 off",
      }),
      prefix: key({
        type: s3PrefixType(),
        default: "",
        env: "AKIDB_S3_PREFIX",
        doc: "Key prefix inside the bucket, e.g. akidb/prod; empty = the bucket's root",
      }),
      accessKeyId: key({
        type: optionalType(stringType("printable ASCII", "<id>", printable)),
        default: undefined,
        env: "AKIDB_S3_ACCESS_KEY_ID",
        doc: "S3 access key id; empty = the SDK's default credential chain",
        secret: true,
      }),
      secretAccessKey: key({
        type: optionalType(stringType("printable ASCII", "<secret>", printable)),
        default: undefined,
        env: "AKIDB_S3_SECRET_ACCESS_KEY",
        doc: "S3 secret access key; set together with access_key_id",
        secret: true,
      }),
      forcePathStyle: key({
        type: booleanType(),
        default: true,
        env: "AKIDB_S3_FORCE_PATH_STYLE",
        doc: "Address buckets as endpoint/bucket (MinIO) instead of bucket.endpoint",
      }),
    },
    metrics: {
      public: key({
        type: booleanType(),
        default: false,
        env: "AKIDB_METRICS_PUBLIC",
        doc: "Serve /metrics without an API key",
      }),
    },
    tracing: {
      enabled: key({
        type: booleanType(),
        default: false,
        doc: "Record OpenTelemetry spans (export also needs OTEL_DENO=true)",
      }),
      sampleRatio: key({
        type: ratioType(),
        default: 0.01,
        doc: "Fraction of requests traced, 0..1",
      }),
      otlpEndpoint: key({
        type: urlType(),
        default: "http://127.0.0.1:4318",
        doc: "OTLP/HTTP collector the spans go to",
      }),
    },
  } as const,
);

type Schema = typeof CONFIG_SCHEMA;
type ValueOf<D> = D extends KeyDescriptor<infer T> ? T : never;

/** The name of a section of the configuration: `server`, `wal`, … */
export type ConfigSection = keyof Schema;

/**
 * Every key's parsed value, by section and camelCase name, exactly as the
 * schema declares them (before `s3` becomes optional in {@linkcode Config}).
 */
export type ConfigValues = {
  readonly [S in ConfigSection]: { readonly [K in keyof Schema[S]]: ValueOf<Schema[S][K]> };
};

/** The S3 settings, present in {@linkcode Config} only when a bucket is set. */
export type S3Config = Readonly<Omit<ConfigValues["s3"], "bucket"> & { bucket: string }>;

/** The loaded configuration: deeply readonly and frozen. */
export type Config = Readonly<
  Omit<ConfigValues, "s3"> & {
    /** The S3 settings, or undefined when `s3.bucket` is not set (S3 off). */
    s3: S3Config | undefined;
    /** The TOML file read, or undefined when none was given. */
    configFile: string | undefined;
    /** Problems that did not stop loading: unknown AKIDB_* variables, ignored settings. */
    warnings: readonly string[];
  }
>;

/** `server` settings. */
export type ServerConfig = Config["server"];
/** `storage` settings. */
export type StorageConfig = Config["storage"];
/** `wal` settings. */
export type WalConfig = Config["wal"];
/** `auth` settings. */
export type AuthConfig = Config["auth"];
/** `log` settings; `createLogger(config.log)` accepts them. */
export type LogConfig = Config["log"];
/** `index` settings: defaults of new collections. */
export type IndexConfig = Config["index"];
/** `metrics` settings. */
export type MetricsConfig = Config["metrics"];
/** `tracing` settings. */
export type TracingConfig = Config["tracing"];

/** One key of the schema, flattened, with its names in every source. */
export interface ConfigKey {
  /** The TOML path: `server.shutdown_timeout_ms`. */
  readonly path: string;
  /** The section: `server`. */
  readonly section: ConfigSection;
  /** The name inside the section in TOML: `shutdown_timeout_ms`. */
  readonly tomlName: string;
  /** The property name in {@linkcode Config}: `shutdownTimeoutMs`. */
  readonly property: string;
  /** The declaration. */
  readonly descriptor: KeyDescriptor<unknown>;
}

/**
 * Every key of {@linkcode CONFIG_SCHEMA} in declaration order.
 *
 * @example
 * ```ts
 * import { CONFIG_KEYS } from "./config_schema.ts";
 * const key = CONFIG_KEYS.find((k) => k.path === "server.shutdown_timeout_ms");
 * if (key?.property !== "shutdownTimeoutMs" || key.descriptor.default !== 10000) {
 *   throw new Error("unexpected key");
 * }
 * ```
 */
export const CONFIG_KEYS: readonly ConfigKey[] = Object.freeze(
  Object.entries(CONFIG_SCHEMA).flatMap(([section, keys]) =>
    Object.entries(keys as Record<string, KeyDescriptor<unknown>>).map(([property, descriptor]) => {
      const tomlName = property.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
      return Object.freeze({
        path: `${section}.${tomlName}`,
        section: section as ConfigSection,
        tomlName,
        property,
        descriptor,
      });
    })
  ),
);
