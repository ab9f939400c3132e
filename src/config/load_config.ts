/**
 * Loading the configuration once at startup: built-in defaults < TOML file
 * (`--config <path>` or `AKIDB_CONFIG`) < `AKIDB_*` environment < flags. This
 * folder is the only reader of `Deno.env` in AkiDB.
 *
 * @module
 */

import { assertLimits } from "../limits.ts";
import { deepFreeze } from "./_deep_freeze.ts";
import { type RawSetting, readEnv, readFlags, readTomlFile } from "./_sources.ts";
import { ConfigError } from "./config_error.ts";
import {
  type Config,
  CONFIG_KEYS,
  type ConfigKey,
  type ConfigValues,
  type S3Config,
} from "./config_schema.ts";

/** A parsed value and where it came from (`default` for built-in ones). */
interface Resolved {
  readonly value: unknown;
  readonly origin: string;
}

/**
 * Loads and validates the configuration from the given inputs; pure apart
 * from `readFile`, so tests pass arguments, environment and file contents.
 *
 * @param args Command-line arguments after the command: `--key value` or `--key=value`.
 * @param env The environment; only `AKIDB_*` variables are read (`AKIDB_TEST_*` are skipped).
 * @param readFile Reads the TOML file named by `--config` or `AKIDB_CONFIG`; default `Deno.readTextFileSync`.
 * @returns The deeply frozen configuration, with warnings for what was ignored.
 * @throws {ConfigError} On an invalid value, unknown TOML key or flag, or an unreadable or malformed file;
 * the message names the key, its origin and the bad value.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./load_config.ts";
 * const files: Record<string, string> = { "akidb.toml": "[server]\nport = 9000\nhost = \"0.0.0.0\"\n" };
 * const config = loadConfig(["--port=9100"], { AKIDB_CONFIG: "akidb.toml", AKIDB_PORT: "9050" }, (path) => {
 *   const text = files[path];
 *   if (text === undefined) throw new Deno.errors.NotFound(path);
 *   return text;
 * });
 * if (config.server.port !== 9100 || config.server.host !== "0.0.0.0" || config.s3 !== undefined) {
 *   throw new Error("flags must win over env over the file");
 * }
 * let message = "";
 * try {
 *   loadConfig([], { AKIDB_PORT: "abc" });
 * } catch (error) {
 *   message = (error as Error).message;
 * }
 * if (message !== 'Cannot read config: server.port from AKIDB_PORT is "abc", expected an integer 1..65535') {
 *   throw new Error(message);
 * }
 * ```
 */
export function loadConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = Deno.readTextFileSync,
): Config {
  assertLimits();
  const flags = readFlags(args);
  const environment = readEnv(env);
  const configFile = flags.configFile ?? environment.configFile;
  const file = configFile === undefined ? [] : readTomlFile(configFile, readFile);
  const resolved = new Map<ConfigKey, Resolved>(
    CONFIG_KEYS.map((key) => [key, { value: key.descriptor.default, origin: "default" }]),
  );
  // Every source is validated in full, even where a later one overrides it.
  for (const setting of [...file, ...environment.settings, ...flags.settings]) {
    resolved.set(setting.key, { value: parseSetting(setting), origin: setting.origin });
  }
  const warnings = [...environment.warnings, ...crossCheck(resolved)];
  return deepFreeze(assemble(resolved, configFile, warnings));
}

/**
 * Loads the configuration from the process's arguments and environment.
 *
 * @param args Command-line arguments after the command.
 * @returns The configuration, as {@linkcode loadConfig} does.
 * @throws {ConfigError} As {@linkcode loadConfig}, or when the environment is not readable.
 *
 * @example
 * ```ts
 * import { loadConfigFromProcess } from "./load_config.ts";
 * const config = loadConfigFromProcess(["--port", "9999"]);
 * if (config.server.port !== 9999) throw new Error("the flag must win");
 * ```
 */
export function loadConfigFromProcess(args: readonly string[]): Config {
  let env: Record<string, string>;
  try {
    env = Deno.env.toObject();
  } catch (cause) {
    throw new ConfigError(
      "Cannot read config: the environment is not readable (run with --allow-env)",
      {
        cause,
      },
    );
  }
  return loadConfig(args, env);
}

/**
 * Parses one raw setting with its key's type.
 *
 * @param setting The setting.
 * @returns The parsed value.
 * @throws {ConfigError} When the value is invalid; secrets are not quoted.
 */
function parseSetting(setting: RawSetting): unknown {
  const { type, secret } = setting.key.descriptor;
  const parsed = setting.form === "text"
    ? type.fromText(setting.raw as string)
    : type.fromToml(setting.raw);
  if (parsed.ok) return parsed.value;
  const shown = secret === true ? "<redacted>" : showRaw(setting.raw);
  throw new ConfigError(
    `Cannot read config: ${setting.key.path} from ${setting.origin} is ${shown}, expected ${
      parsed.reason ?? type.expected
    }`,
    { key: setting.key.path, origin: setting.origin },
  );
}

/**
 * Shows a raw value in a message: strings quoted, TOML values as JSON-like text.
 *
 * @param raw The text or TOML value.
 * @returns The printable form.
 */
function showRaw(raw: unknown): string {
  if (typeof raw === "bigint") return raw.toString();
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw) && !isPlainTable(raw)) {
    return String(raw); // a TOML date or time
  }
  return JSON.stringify(raw, (_key, value) => typeof value === "bigint" ? value.toString() : value);
}

/**
 * Tells whether a value is a TOML table (not a date).
 *
 * @param value An object.
 * @returns True for plain objects.
 */
function isPlainTable(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/**
 * Checks rules that span keys.
 *
 * @param resolved Every key's value and origin.
 * @returns Warnings about settings that have no effect or are risky.
 * @throws {ConfigError} When S3 credentials are half set.
 */
function crossCheck(resolved: ReadonlyMap<ConfigKey, Resolved>): string[] {
  const get = (path: string): Resolved => {
    const key = CONFIG_KEYS.find((candidate) => candidate.path === path);
    const entry = key === undefined ? undefined : resolved.get(key);
    if (entry === undefined) throw new Error(`Cannot check config: no key ${path}`);
    return entry;
  };
  const id = get("s3.access_key_id");
  const secret = get("s3.secret_access_key");
  if ((id.value === undefined) !== (secret.value === undefined)) {
    const [set, unset] = id.value === undefined
      ? [`s3.secret_access_key (from ${secret.origin})`, "s3.access_key_id"]
      : [`s3.access_key_id (from ${id.origin})`, "s3.secret_access_key"];
    const message =
      `Cannot read config: ${set} is set but ${unset} is not, expected both or neither`;
    throw new ConfigError(message, { key: unset });
  }
  const warnings: string[] = [];
  if (get("s3.bucket").value === undefined) {
    for (const key of CONFIG_KEYS.filter((k) => k.section === "s3" && k.tomlName !== "bucket")) {
      const { value, origin } = get(key.path);
      const { type, default: defaultValue } = key.descriptor;
      if (type.toToml(value) !== type.toToml(defaultValue)) {
        warnings.push(`Ignoring ${key.path} from ${origin}: s3.bucket is not set, S3 is off`);
      }
    }
  }
  const host = get("server.host").value as string;
  const loopback = host === "localhost" || host === "::1" || host.startsWith("127.");
  if (!loopback && (get("auth.api_keys").value as readonly unknown[]).length === 0) {
    warnings.push(`Authentication is off (no auth.api_keys) while listening on ${host}`);
  }
  return warnings;
}

/**
 * Builds the {@linkcode Config} object from resolved values.
 *
 * @param resolved Every key's value.
 * @param configFile The TOML file read, if any.
 * @param warnings Warnings to return with the config.
 * @returns The configuration, not yet frozen.
 */
function assemble(
  resolved: ReadonlyMap<ConfigKey, Resolved>,
  configFile: string | undefined,
  warnings: readonly string[],
): Config {
  const sections: Record<string, Record<string, unknown>> = {};
  for (const [key, { value }] of resolved) {
    (sections[key.section] ??= {})[key.property] = value;
  }
  const values = sections as unknown as ConfigValues;
  const { bucket } = values.s3;
  const s3: S3Config | undefined = bucket === undefined ? undefined : { ...values.s3, bucket };
  return { ...values, s3, configFile, warnings };
}
