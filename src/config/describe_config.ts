/**
 * A loggable view of the configuration, secrets redacted.
 *
 * @module
 */

import { type Config, CONFIG_KEYS } from "./config_schema.ts";

/** The redacted form of a set secret. */
export const REDACTED = "<redacted>";

/**
 * Flattens the configuration into `section.key` fields for a startup log line;
 * secrets that are set show as `<redacted>` (unset ones as they are, so "auth
 * off" stays visible); the `s3.*` keys are left out when S3 is off.
 *
 * @param config A loaded configuration.
 * @returns Fields by TOML path, plus `config_file` when a file was read.
 *
 * @example
 * ```ts
 * import { describeConfig, loadConfig } from "./mod.ts";
 * const key = "k".repeat(16);
 * const fields = describeConfig(loadConfig(["--api-keys", key], {}));
 * if (fields["auth.api_keys"] !== "<redacted>" || fields["server.port"] !== 8080) {
 *   throw new Error(JSON.stringify(fields));
 * }
 * if (JSON.stringify(fields).includes(key)) throw new Error("a secret leaked");
 * ```
 */
export function describeConfig(config: Config): Readonly<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  if (config.configFile !== undefined) fields.config_file = config.configFile;
  for (const key of CONFIG_KEYS) {
    const section = config[key.section] as Readonly<Record<string, unknown>> | undefined;
    if (section === undefined) continue;
    const value = section[key.property];
    const unset = value === undefined || (Array.isArray(value) && value.length === 0);
    fields[key.path] = key.descriptor.secret === true && !unset ? REDACTED : value;
  }
  return fields;
}
