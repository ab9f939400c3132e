/**
 * The configuration part of `--help`, generated from the schema.
 *
 * @module
 */

import { CONFIG_ENV, CONFIG_FLAG } from "./_sources.ts";
import { CONFIG_KEYS, type ConfigKey } from "./config_schema.ts";

/**
 * Renders the help text of every setting: flags first, then environment
 * variables without a flag, then keys only the TOML file sets.
 *
 * @returns Help text, lines ending in `\n`.
 *
 * @example
 * ```ts
 * import { renderHelp } from "./render_help.ts";
 * const help = renderHelp();
 * if (!help.includes("  --port <int>\n") || !help.includes("server.port, env AKIDB_PORT, default 8080")) {
 *   throw new Error(help);
 * }
 * ```
 */
export function renderHelp(): string {
  const withFlag = CONFIG_KEYS.filter((key) => key.descriptor.flag !== undefined);
  const envOnly = CONFIG_KEYS.filter((key) =>
    key.descriptor.flag === undefined && key.descriptor.env !== undefined
  );
  const fileOnly = CONFIG_KEYS.filter((key) =>
    key.descriptor.flag === undefined && key.descriptor.env === undefined
  );
  const lines = [
    "Configuration, later sources winning: built-in defaults < TOML file < AKIDB_* environment < flags.",
    "Flags take a value as --flag value or --flag=value.",
    "",
    "Flags:",
    `  ${CONFIG_FLAG} <path>`,
    `      TOML configuration file; every key is listed in config.example.toml`,
    `      env ${CONFIG_ENV}`,
    ...withFlag.flatMap((key) =>
      entry(`${key.descriptor.flag} ${key.descriptor.type.placeholder}`, key)
    ),
    "",
    "Environment variables without a flag:",
    ...envOnly.flatMap((key) =>
      entry(`${key.descriptor.env}=${key.descriptor.type.placeholder}`, key)
    ),
    "",
    "Settings of the TOML file only:",
    ...fileOnly.flatMap((key) => entry(`${key.path} = ${key.descriptor.type.placeholder}`, key)),
  ];
  return lines.map((line) => `${line}\n`).join("");
}

/**
 * Tells whether the arguments ask for help (`--help` or `-h`); check this
 * before {@linkcode loadConfig}, which rejects both as unknown flags.
 *
 * @param args Command-line arguments.
 * @returns True when help was asked for.
 *
 * @example
 * ```ts
 * import { wantsHelp } from "./render_help.ts";
 * if (!wantsHelp(["--port", "1", "-h"]) || wantsHelp(["--port", "1"])) throw new Error("wantsHelp");
 * ```
 */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

/**
 * Renders one entry: the usage line, the doc line, the key's names and default.
 *
 * @param usage How to set it: `--port <int>`.
 * @param key The key.
 * @returns Three lines.
 */
function entry(usage: string, key: ConfigKey): string[] {
  const { env, flag, type } = key.descriptor;
  const names = [key.path, env === undefined || flag === undefined ? undefined : `env ${env}`];
  const defaultText = type.toToml(key.descriptor.default);
  return [
    `  ${usage}`,
    `      ${key.descriptor.doc}`,
    `      ${[...names.filter((name) => name !== undefined), `default ${defaultText}`].join(", ")}`,
  ];
}
