/**
 * Structured logging: one JSON object per line on stderr
 * (`{"ts","level","msg",...fields}`), or a human-readable text line; levels
 * below the configured one are dropped before any formatting; `child(fields)`
 * binds fields to every line. Library code logs through a {@linkcode Logger},
 * never through `console`.
 *
 * @module
 */

/** The log levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** A log level: `debug` < `info` < `warn` < `error`. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The output formats: `json` (one object per line) or `text` (for humans). */
export const LOG_FORMATS = ["json", "text"] as const;

/** An output format of the logger. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Receives each formatted line, newline included; it must not throw for control flow. */
export type LogSink = (line: string) => void;

/** How to build a {@linkcode Logger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  readonly level?: LogLevel;
  /** Output format. Default `json`. */
  readonly format?: LogFormat;
  /** Where lines go. Default {@linkcode stderrSink}. */
  readonly sink?: LogSink;
  /** The clock for `ts`. Default `() => new Date()`. */
  readonly now?: () => Date;
  /** Fields bound to every line. */
  readonly fields?: LogFields;
}

/** Keys every line owns; a field with one of these names is written as `field.<name>`. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(["ts", "level", "msg"]);

const LEVEL_RANKS: Readonly<Record<LogLevel, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
};

/**
 * A sink writing each line synchronously to the process's stderr, so a line is
 * out before a crash or exit. Write errors (a closed stderr) are dropped:
 * there is nowhere left to report them.
 *
 * @returns A sink bound to `Deno.stderr`.
 *
 * @example
 * ```ts
 * import { createLogger, stderrSink } from "./logger.ts";
 * const logger = createLogger({ sink: stderrSink(), level: "error" });
 * if (logger.enabled("info")) throw new Error("info must be filtered at level error");
 * ```
 */
export function stderrSink(): LogSink {
  const encoder = new TextEncoder();
  return (line) => {
    let bytes = encoder.encode(line);
    try {
      while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
    } catch {
      // stderr is gone (closed pipe); logging must never take the server down.
    }
  };
}

/**
 * A structured logger. Build it with {@linkcode createLogger}; derive loggers
 * with bound fields with {@linkcode Logger.child}.
 */
export class Logger {
  readonly #rank: number;
  readonly #options: Required<Omit<LoggerOptions, "fields">>;
  readonly #fields: LogFields;

  /**
   * Builds a logger; prefer {@linkcode createLogger}.
   *
   * @param options Level, format, sink, clock and bound fields.
   */
  constructor(options: LoggerOptions = {}) {
    this.#options = {
      level: options.level ?? "info",
      format: options.format ?? "json",
      sink: options.sink ?? stderrSink(),
      now: options.now ?? (() => new Date()),
    };
    this.#rank = LEVEL_RANKS[this.#options.level];
    this.#fields = Object.freeze({ ...options.fields });
  }

  /** The lowest level this logger writes. */
  get level(): LogLevel {
    return this.#options.level;
  }

  /**
   * Tells whether lines at `level` are written, to skip building costly fields.
   *
   * @param level The level to test.
   * @returns True when a line at `level` would be written.
   */
  enabled(level: LogLevel): boolean {
    return LEVEL_RANKS[level] >= this.#rank;
  }

  /**
   * Returns a logger writing to the same sink at the same level with more bound fields.
   *
   * @param fields Fields added to every line; they override this logger's fields of the same name.
   * @returns The child logger.
   */
  child(fields: LogFields): Logger {
    return new Logger({ ...this.#options, fields: { ...this.#fields, ...fields } });
  }

  /**
   * Writes a line at `level` when the level is enabled; never throws.
   *
   * @param level The line's level.
   * @param msg The message: what happened, without variable data (put that in fields).
   * @param fields Fields of this line; they override bound fields of the same name.
   */
  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const record = { ...this.#fields, ...fields };
    const ts = this.#options.now().toISOString();
    const line = this.#options.format === "json"
      ? formatJson(ts, level, msg, record)
      : formatText(ts, level, msg, record);
    try {
      this.#options.sink(line);
    } catch {
      // A failing sink must not turn a log call into an error of the caller.
    }
  }

  /**
   * Writes a `debug` line.
   *
   * @param msg The message.
   * @param fields Fields of this line.
   */
  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }

  /**
   * Writes an `info` line.
   *
   * @param msg The message.
   * @param fields Fields of this line.
   */
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }

  /**
   * Writes a `warn` line.
   *
   * @param msg The message.
   * @param fields Fields of this line.
   */
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }

  /**
   * Writes an `error` line; pass the error as a field (`{ error }`) to keep
   * its name, message, stack and cause.
   *
   * @param msg The message.
   * @param fields Fields of this line.
   */
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }
}

/**
 * Builds a logger. `createLogger(config.log)` takes the level and format of a loaded config.
 *
 * @param options Level (default `info`), format (default `json`), sink (default stderr), clock, bound fields.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const lines: string[] = [];
 * const logger = createLogger({
 *   level: "info",
 *   sink: (line) => lines.push(line),
 *   now: () => new Date(0),
 * });
 * logger.debug("dropped");
 * logger.child({ collection: "docs" }).info("snapshot done", { points: 3 });
 * const expected =
 *   '{"ts":"1970-01-01T00:00:00.000Z","level":"info","msg":"snapshot done","collection":"docs","points":3}\n';
 * if (lines.length !== 1 || lines[0] !== expected) throw new Error(`unexpected ${lines}`);
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return new Logger(options);
}

/**
 * Formats one JSON line.
 *
 * @param ts ISO timestamp.
 * @param level The level.
 * @param msg The message.
 * @param fields The merged fields.
 * @returns The line with its newline.
 */
function formatJson(ts: string, level: LogLevel, msg: string, fields: LogFields): string {
  const head = `{"ts":${JSON.stringify(ts)},"level":"${level}","msg":${JSON.stringify(msg)}`;
  let body = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    body += `,${JSON.stringify(fieldKey(key))}:${toJson(value)}`;
  }
  return `${head}${body}}\n`;
}

/**
 * Formats one text line: `ts LEVEL msg key=value …`.
 *
 * @param ts ISO timestamp.
 * @param level The level.
 * @param msg The message.
 * @param fields The merged fields.
 * @returns The line with its newline.
 */
function formatText(ts: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${ts} ${level.toUpperCase().padEnd(5)} ${msg.replaceAll("\n", "\\n")}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = typeof value !== "string"
      ? toJson(value)
      : /^[^\s"=\\]+$/.test(value)
      ? value
      : JSON.stringify(value);
    line += ` ${fieldKey(key)}=${text}`;
  }
  return `${line}\n`;
}

/**
 * Renames a field that would collide with `ts`, `level` or `msg`.
 *
 * @param key The field name.
 * @returns The name to write.
 */
function fieldKey(key: string): string {
  return RESERVED_KEYS.has(key) ? `field.${key}` : key;
}

/**
 * Serializes a field value to JSON without ever throwing: errors keep name,
 * message, stack and cause; bigints become strings; cycles become `"[Circular]"`.
 *
 * @param value The value.
 * @returns JSON text.
 */
function toJson(value: unknown): string {
  // The objects being serialized, outermost first: `original` to detect cycles,
  // `holder` (what JSON.stringify walks, an error's plain copy) to unwind.
  const path: { original: unknown; holder: unknown }[] = [];
  const replacer = function (this: unknown, _key: string, item: unknown): unknown {
    while (path.length > 0 && path.at(-1)?.holder !== this) path.pop();
    if (typeof item === "bigint") return item.toString();
    if (typeof item !== "object" || item === null) return item;
    if (path.some((entry) => entry.original === item)) return "[Circular]";
    const holder = item instanceof Error ? errorToObject(item) : item;
    path.push({ original: item, holder });
    return holder;
  };
  try {
    return JSON.stringify(value, replacer) ?? JSON.stringify(String(value));
  } catch (error) {
    return JSON.stringify(`[unserializable: ${error instanceof Error ? error.message : "?"}]`);
  }
}

/**
 * Turns an error into a plain object for JSON.
 *
 * @param error The error.
 * @returns Its name, message, code (when set), stack and cause.
 */
function errorToObject(error: Error): Record<string, unknown> {
  const object: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) object.code = code;
  if (error.stack !== undefined) object.stack = error.stack;
  if (error.cause !== undefined) object.cause = error.cause;
  return object;
}
