/**
 * The error of an invalid configuration.
 *
 * @module
 */

/** Options of a {@linkcode ConfigError}. */
export interface ConfigErrorOptions {
  /** The key at fault, as written in TOML (`server.port`), when one is. */
  readonly key?: string;
  /** Where the bad value came from: `AKIDB_PORT`, `--port`, `file "akidb.toml"`. */
  readonly origin?: string;
  /** The lower-level error (a failed file read, a TOML syntax error). */
  readonly cause?: unknown;
}

/**
 * An invalid configuration: a bad value, an unknown TOML key or flag, an
 * unreadable or malformed file. The process should print the message and exit
 * non-zero; the message names the key, its origin and the bad value, e.g.
 * `Cannot read config: server.port from AKIDB_PORT is "abc", expected an integer 1..65535`.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./config_error.ts";
 * const error = new ConfigError("Cannot read config: x", { key: "server.port", origin: "--port" });
 * if (error.name !== "ConfigError" || error.key !== "server.port" || error.origin !== "--port") {
 *   throw new Error("unexpected ConfigError fields");
 * }
 * ```
 */
export class ConfigError extends Error {
  /** The key at fault, as written in TOML, or undefined when the error is not about one key. */
  readonly key: string | undefined;
  /** Where the bad value came from, or undefined. */
  readonly origin: string | undefined;

  /**
   * Builds the error.
   *
   * @param message The whole message, starting `Cannot read config`.
   * @param options Key, origin and cause.
   */
  constructor(message: string, options: ConfigErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ConfigError";
    this.key = options.key;
    this.origin = options.origin;
  }
}
