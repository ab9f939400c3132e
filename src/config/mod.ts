/**
 * AkiDB's configuration: parsed and validated once at startup into a deeply
 * frozen {@linkcode Config}. Precedence: built-in defaults < TOML file
 * (`--config <path>` or `AKIDB_CONFIG`) < `AKIDB_*` environment < flags.
 * Every key is declared once in {@linkcode CONFIG_SCHEMA}; `--help` text and
 * `config.example.toml` are generated from it. This folder is the only
 * reader of `Deno.env`.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig } from "./mod.ts";
 * const config = loadConfig(["--wal-sync-mode", "interval:50"], { AKIDB_API_KEYS: "abcdefghijklmnop:ro" });
 * if (config.wal.syncMode.kind !== "interval" || config.wal.syncMode.intervalMs !== 50) {
 *   throw new Error("unexpected sync mode");
 * }
 * if (config.auth.apiKeys[0]?.readOnly !== true) throw new Error("expected a read-only key");
 * try {
 *   loadConfig(["--prot", "1"], {});
 *   throw new Error("unreachable");
 * } catch (error) {
 *   if (!(error instanceof ConfigError)) throw error;
 * }
 * ```
 *
 * @module
 */

export { ConfigError, type ConfigErrorOptions } from "./config_error.ts";
export {
  type ApiKey,
  type AuthConfig,
  type Config,
  CONFIG_KEYS,
  CONFIG_SCHEMA,
  type ConfigKey,
  type ConfigSection,
  type ConfigValues,
  type IndexConfig,
  type KeyDescriptor,
  type LogConfig,
  type MetricsConfig,
  type S3Config,
  type ServerConfig,
  type StorageConfig,
  type TracingConfig,
  type ValueType,
  type WalConfig,
  type WalSyncMode,
} from "./config_schema.ts";
export { loadConfig, loadConfigFromProcess } from "./load_config.ts";
export { renderHelp, wantsHelp } from "./render_help.ts";
export { renderExampleToml } from "./render_example_toml.ts";
export { describeConfig, REDACTED } from "./describe_config.ts";
