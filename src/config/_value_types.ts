/**
 * The value types of configuration keys: how each parses from text (an
 * environment variable, a flag), from a TOML value, and how it prints back as
 * TOML. Private to `src/config`; the schema composes them.
 *
 * @module
 */

/** The outcome of parsing one value: the value, or why it is invalid. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason?: string };

/** How one kind of value parses and prints. */
export interface ValueType<T> {
  /** What a valid value looks like, completing "expected …": `an integer 1..65535`. */
  readonly expected: string;
  /** The placeholder of a flag's value in help text: `<int>`. */
  readonly placeholder: string;
  /**
   * Parses text from an environment variable or a flag (already trimmed).
   *
   * @param text The text.
   * @returns The value or the reason it is invalid.
   */
  fromText(text: string): Parsed<T>;
  /**
   * Parses a value of a TOML document.
   *
   * @param value A TOML value (string, number, bigint, boolean, array, table, date).
   * @returns The value or the reason it is invalid.
   */
  fromToml(value: unknown): Parsed<T>;
  /**
   * Prints a value as TOML, so that `fromToml` of the printed value returns it.
   *
   * @param value The value.
   * @returns TOML text of the value.
   */
  toToml(value: T): string;
}

/** How the write-ahead log reaches the disk: on every commit, on a timer, or never. */
export type WalSyncMode =
  | { readonly kind: "always" }
  | { readonly kind: "interval"; readonly intervalMs: number }
  | { readonly kind: "none" };

/** One API key; read-only keys may not write. */
export interface ApiKey {
  /** The secret a client sends as `Authorization: Bearer <key>` or `api-key: <key>`. */
  readonly key: string;
  /** True when the key was configured with the `:ro` suffix. */
  readonly readOnly: boolean;
}

const INVALID: Parsed<never> = { ok: false };

/**
 * Wraps a value as a successful parse.
 *
 * @param value The value.
 * @returns The parse result.
 */
function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/**
 * A type whose TOML form is a string parsed like text.
 *
 * @param expected What a valid value looks like.
 * @param placeholder Placeholder in help text.
 * @param parse Parses the text.
 * @param print Prints a value back as the text `parse` accepts.
 * @returns The value type.
 */
function textual<T>(
  expected: string,
  placeholder: string,
  parse: (text: string) => Parsed<T>,
  print: (value: T) => string,
): ValueType<T> {
  return {
    expected,
    placeholder,
    fromText: parse,
    fromToml: (value) => (typeof value === "string" ? parse(value) : INVALID),
    toToml: (value) => JSON.stringify(print(value)),
  };
}

/**
 * An integer in `min..max`.
 *
 * @param min Smallest valid value.
 * @param max Largest valid value.
 * @returns The value type.
 */
export function integerType(min: number, max: number): ValueType<number> {
  const inRange = (n: number) => Number.isSafeInteger(n) && min <= n && n <= max;
  return {
    expected: `an integer ${min}..${max}`,
    placeholder: "<int>",
    fromText: (text) => {
      if (!/^[+-]?\d+$/.test(text)) return INVALID;
      const n = Number(text);
      return inRange(n) ? ok(n) : INVALID;
    },
    fromToml: (value) => (typeof value === "number" && inRange(value) ? ok(value) : INVALID),
    toToml: (value) => String(value),
  };
}

/**
 * A number in `0..1`, such as a sampling ratio.
 *
 * @returns The value type.
 */
export function ratioType(): ValueType<number> {
  const inRange = (n: number) => Number.isFinite(n) && 0 <= n && n <= 1;
  return {
    expected: "a number 0..1",
    placeholder: "<ratio>",
    fromText: (text) => {
      if (!/^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return INVALID;
      const n = Number(text);
      return inRange(n) ? ok(n) : INVALID;
    },
    fromToml: (value) => (typeof value === "number" && inRange(value) ? ok(value) : INVALID),
    toToml: (value) => (Number.isInteger(value) ? value.toFixed(1) : String(value)),
  };
}

/**
 * A boolean: TOML `true`/`false`; as text also `1`/`0`, in any letter case.
 *
 * @returns The value type.
 */
export function booleanType(): ValueType<boolean> {
  const words: Readonly<Record<string, boolean>> = { true: true, false: false, 1: true, 0: false };
  return {
    expected: "true or false",
    placeholder: "<bool>",
    fromText: (text) => {
      const value = words[text.toLowerCase()];
      return value === undefined ? INVALID : ok(value);
    },
    fromToml: (value) => (typeof value === "boolean" ? ok(value) : INVALID),
    toToml: (value) => String(value),
  };
}

/**
 * One of a fixed set of lowercase words; text matches in any letter case.
 *
 * @param values The valid words.
 * @returns The value type.
 */
export function choiceType<const V extends string>(values: readonly V[]): ValueType<V> {
  return textual(
    `one of ${values.join(", ")}`,
    `<${values.join("|")}>`,
    (text) => {
      const value = values.find((candidate) => candidate === text.toLowerCase());
      return value === undefined ? INVALID : ok(value);
    },
    (value) => value,
  );
}

/**
 * A string matching `pattern`.
 *
 * @param expected What a valid value looks like.
 * @param placeholder Placeholder in help text.
 * @param pattern The pattern a valid string matches in full.
 * @returns The value type.
 */
export function stringType(
  expected: string,
  placeholder: string,
  pattern: RegExp,
): ValueType<string> {
  return textual(
    expected,
    placeholder,
    (text) => (pattern.test(text) ? ok(text) : INVALID),
    String,
  );
}

/**
 * A string that may be left unset: the empty string means "not set" in every
 * source, which lets `config.example.toml` list the key with its default.
 *
 * @param inner The type of a set value.
 * @returns The value type, `undefined` when unset.
 */
export function optionalType(inner: ValueType<string>): ValueType<string | undefined> {
  return textual(
    `${inner.expected}, or empty for none`,
    inner.placeholder,
    (text) => (text === "" ? ok(undefined) : inner.fromText(text)),
    (value) => value ?? "",
  );
}

/**
 * An absolute http or https URL.
 *
 * @returns The value type; the value keeps the text as given.
 */
export function urlType(): ValueType<string> {
  return textual("an http:// or https:// URL", "<url>", (text) => {
    if (!URL.canParse(text)) return INVALID;
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:" ? ok(text) : INVALID;
  }, String);
}

/**
 * An S3 key prefix: segments of printable characters joined by `/`; leading and
 * trailing slashes are dropped, so `/akidb/prod/` becomes `akidb/prod`.
 *
 * @returns The value type; the empty string means the bucket's root.
 */
export function s3PrefixType(): ValueType<string> {
  return textual("an S3 key prefix such as akidb/prod", "<prefix>", (text) => {
    const prefix = text.replace(/^\/+|\/+$/g, "");
    if (prefix === "") return ok("");
    const segments = prefix.split("/");
    const valid = segments.every((s) => /^[\x21-\x7E]+$/.test(s) && s !== "." && s !== "..");
    return valid ? ok(prefix) : INVALID;
  }, String);
}

/**
 * The WAL sync mode: `always`, `none` or `interval:<ms>`.
 *
 * @param intervalMsMin Shortest interval.
 * @param intervalMsMax Longest interval.
 * @returns The value type.
 */
export function walSyncModeType(
  intervalMsMin: number,
  intervalMsMax: number,
): ValueType<WalSyncMode> {
  const interval = integerType(intervalMsMin, intervalMsMax);
  return textual(
    `always, none or interval:<ms> with ms ${intervalMsMin}..${intervalMsMax}`,
    "<always|interval:MS|none>",
    (text): Parsed<WalSyncMode> => {
      if (text === "always" || text === "none") return ok({ kind: text });
      const match = /^interval:(.*)$/.exec(text);
      const ms = match === null ? INVALID : interval.fromText(match[1] ?? "");
      return ms.ok ? ok({ kind: "interval", intervalMs: ms.value }) : INVALID;
    },
    (mode) => (mode.kind === "interval" ? `interval:${mode.intervalMs}` : mode.kind),
  );
}

/** Bounds of API keys, from `LIMITS`. */
export interface ApiKeyBounds {
  /** Shortest key, in characters. */
  readonly lengthMin: number;
  /** Longest key, in characters. */
  readonly lengthMax: number;
  /** Most keys. */
  readonly countMax: number;
}

/**
 * API keys: a comma-separated list (or, in TOML, also an array of strings) of
 * printable ASCII keys without commas; a `:ro` suffix makes a key read-only.
 *
 * @param bounds Key length and count limits.
 * @returns The value type.
 */
export function apiKeysType(bounds: ApiKeyBounds): ValueType<readonly ApiKey[]> {
  const expected = `comma-separated keys of ${bounds.lengthMin}..${bounds.lengthMax} ` +
    "printable ASCII characters, each optionally suffixed :ro";
  const fromEntries = (entries: readonly string[]) => parseApiKeys(entries, bounds);
  return {
    expected,
    placeholder: "<key[:ro],...>",
    fromText: (text) => fromEntries(text === "" ? [] : text.split(",")),
    fromToml: (value) => {
      if (typeof value === "string") return fromEntries(value === "" ? [] : value.split(","));
      if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
        return { ok: false, reason: "a string or an array of strings" };
      }
      return fromEntries(value);
    },
    toToml: (keys) => `[${keys.map((k) => JSON.stringify(k.readOnly ? `${k.key}:ro` : k.key))}]`,
  };
}

/**
 * Parses API key entries; reasons never quote a key, which is a secret.
 *
 * @param entries The entries, each `key` or `key:ro`, possibly space-padded.
 * @param bounds Key length and count limits.
 * @returns The keys or the reason they are invalid.
 */
function parseApiKeys(entries: readonly string[], bounds: ApiKeyBounds): Parsed<readonly ApiKey[]> {
  if (entries.length > bounds.countMax) {
    return { ok: false, reason: `at most ${bounds.countMax} keys, got ${entries.length}` };
  }
  const keys: ApiKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const trimmed = entry.trim();
    const readOnly = trimmed.endsWith(":ro");
    const key = readOnly ? trimmed.slice(0, -3) : trimmed;
    const position = `key ${index + 1} of ${entries.length}`;
    if (!/^[\x21-\x2B\x2D-\x7E]*$/.test(key)) {
      return { ok: false, reason: `printable ASCII keys without commas, but ${position} is not` };
    }
    if (key.length < bounds.lengthMin || key.length > bounds.lengthMax) {
      const length = `${key.length} characters`;
      return {
        ok: false,
        reason:
          `keys of ${bounds.lengthMin}..${bounds.lengthMax} characters, but ${position} has ${length}`,
      };
    }
    if (keys.some((existing) => existing.key === key)) {
      return { ok: false, reason: `distinct keys, but ${position} repeats an earlier one` };
    }
    keys.push({ key, readOnly });
  }
  return ok(keys);
}
