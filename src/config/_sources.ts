/**
 * Reading the three configuration sources (TOML file, environment, flags) into
 * raw settings, before any value is parsed. Unknown TOML keys and flags are
 * errors; unknown `AKIDB_*` variables are warnings.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import { CONFIG_KEYS, type ConfigKey } from "./config_schema.ts";
import { ConfigError } from "./config_error.ts";
import { didYouMean } from "./_suggest.ts";

/** One value for one key, as found in one source. */
export interface RawSetting {
  /** The key it sets. */
  readonly key: ConfigKey;
  /** The text of a variable or flag (trimmed), or the TOML value. */
  readonly raw: unknown;
  /** `text` for variables and flags, `toml` for file values. */
  readonly form: "text" | "toml";
  /** Where it came from, for messages: `AKIDB_PORT`, `--port`, `file "akidb.toml"`. */
  readonly origin: string;
}

/** The flag naming the TOML file. */
export const CONFIG_FLAG = "--config";
/** The environment variable naming the TOML file. */
export const CONFIG_ENV = "AKIDB_CONFIG";
/** Variables with this prefix belong to the test harness, not to the server. */
const TEST_ENV_PREFIX = "AKIDB_TEST_";

const byFlag: ReadonlyMap<string, ConfigKey> = new Map(
  CONFIG_KEYS.flatMap((key) =>
    key.descriptor.flag === undefined ? [] : [[key.descriptor.flag, key]]
  ),
);
const byEnv: ReadonlyMap<string, ConfigKey> = new Map(
  CONFIG_KEYS.flatMap((key) => key.descriptor.env === undefined ? [] : [[key.descriptor.env, key]]),
);

/**
 * Reads flags: `--name value` or `--name=value`, the last occurrence winning.
 *
 * @param args The command-line arguments after the command.
 * @returns The settings and the `--config` path, if given.
 * @throws {ConfigError} On an unknown flag, a flag without a value, or a positional argument.
 */
export function readFlags(
  args: readonly string[],
): { settings: RawSetting[]; configFile: string | undefined } {
  const settings: RawSetting[] = [];
  let configFile: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? "";
    if (!arg.startsWith("--")) {
      throw new ConfigError(
        `Cannot read config: unexpected argument ${
          JSON.stringify(arg)
        }, expected --flag value pairs`,
      );
    }
    const equals = arg.indexOf("=");
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    const key = byFlag.get(flag);
    if (key === undefined && flag !== CONFIG_FLAG) {
      const hint = didYouMean(flag, [CONFIG_FLAG, ...byFlag.keys()]);
      throw new ConfigError(`Cannot read config: unknown flag ${flag}${hint}`, { origin: flag });
    }
    let text = equals === -1 ? args[index + 1] : arg.slice(equals + 1);
    if (equals === -1) {
      if (text === undefined || text.startsWith("--")) {
        throw new ConfigError(`Cannot read config: flag ${flag} needs a value`, { origin: flag });
      }
      index++;
    }
    text = text?.trim() ?? "";
    if (key === undefined) configFile = text;
    else settings.push({ key, raw: text, form: "text", origin: flag });
  }
  return { settings, configFile };
}

/**
 * Reads `AKIDB_*` variables. Empty variables count as unset.
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @returns The settings, the `AKIDB_CONFIG` path if set, and warnings for unknown variables.
 */
export function readEnv(
  env: Readonly<Record<string, string | undefined>>,
): { settings: RawSetting[]; configFile: string | undefined; warnings: string[] } {
  const settings: RawSetting[] = [];
  const warnings: string[] = [];
  let configFile: string | undefined;
  for (const name of Object.keys(env).sort()) {
    const text = env[name]?.trim() ?? "";
    if (!name.startsWith("AKIDB_") || name.startsWith(TEST_ENV_PREFIX)) continue;
    const key = byEnv.get(name);
    if (name === CONFIG_ENV) {
      if (text !== "") configFile = text;
    } else if (key === undefined) {
      const hint = didYouMean(name, [CONFIG_ENV, ...byEnv.keys()]);
      warnings.push(`Ignoring environment variable ${name}: not a setting${hint}`);
    } else if (text !== "") {
      settings.push({ key, raw: text, form: "text", origin: name });
    }
  }
  return { settings, configFile, warnings };
}

/**
 * Reads and checks a TOML file: only known sections and keys are allowed.
 *
 * @param path The file's path.
 * @param readFile Reads a file as UTF-8 text.
 * @returns The settings, in schema order.
 * @throws {ConfigError} When the file cannot be read, is not TOML, or has an unknown section or key.
 */
export function readTomlFile(path: string, readFile: (path: string) => string): RawSetting[] {
  const origin = `file ${JSON.stringify(path)}`;
  const document = parseToml(path, readFile);
  const sections = new Set(CONFIG_KEYS.map((key) => key.section as string));
  for (const [section, table] of Object.entries(document)) {
    if (!sections.has(section)) {
      const hint = didYouMean(section, sections, (candidate) => `[${candidate}]`);
      throw new ConfigError(
        `Cannot read config: unknown section [${section}] in ${origin}${hint}`,
        {
          key: section,
          origin,
        },
      );
    }
    if (typeof table !== "object" || table === null || Array.isArray(table)) {
      throw new ConfigError(
        `Cannot read config: ${section} in ${origin} is not a [${section}] table`,
        {
          key: section,
          origin,
        },
      );
    }
    for (const name of Object.keys(table)) {
      if (!CONFIG_KEYS.some((key) => key.section === section && key.tomlName === name)) {
        const names = CONFIG_KEYS.filter((key) => key.section === section).map((k) => k.tomlName);
        const hint = didYouMean(name, names, (candidate) => `${section}.${candidate}`);
        throw new ConfigError(
          `Cannot read config: unknown key ${section}.${name} in ${origin}${hint}`,
          {
            key: `${section}.${name}`,
            origin,
          },
        );
      }
    }
  }
  return CONFIG_KEYS.flatMap((key) => {
    const raw = (document[key.section] as Record<string, unknown> | undefined)?.[key.tomlName];
    return raw === undefined ? [] : [{ key, raw, form: "toml" as const, origin }];
  });
}

/**
 * Reads and parses the file.
 *
 * @param path The file's path.
 * @param readFile Reads a file as UTF-8 text.
 * @returns The TOML document.
 * @throws {ConfigError} When the file cannot be read or is not valid TOML.
 */
function parseToml(path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(path);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`Cannot read config file ${JSON.stringify(path)}: ${reason}`, {
      origin: `file ${JSON.stringify(path)}`,
      cause,
    });
  }
  try {
    return parse(text, { integersAsBigInt: "asNeeded", unsafeKeyBehaviour: "throw" });
  } catch (cause) {
    const where = cause instanceof TomlError
      ? ` at line ${cause.line}, column ${cause.column}`
      : "";
    const reason = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0];
    throw new ConfigError(
      `Cannot read config file ${JSON.stringify(path)}: not valid TOML${where}: ${reason}`,
      { origin: `file ${JSON.stringify(path)}`, cause },
    );
  }
}
