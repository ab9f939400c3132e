/**
 * A strict reader of the small YAML subset AkiDB's deployment files are kept
 * in, so tests can check them on a machine with no YAML library: block
 * mappings and sequences by indentation (spaces only), plain, single- and
 * double-quoted scalars, `null`/`~`, booleans, numbers, `{}`, `[]` and flow
 * sequences of scalars, `#` comments. Anything else (anchors, aliases, tags,
 * block scalars `|`/`>`, flow mappings with content, several documents, tabs,
 * duplicate keys) is a `SyntaxError` naming the line, never a guess.
 *
 * @module
 */

/** A parsed YAML value. */
export type YamlValue = null | boolean | number | string | YamlValue[] | {
  [key: string]: YamlValue;
};

interface Line {
  readonly number: number;
  readonly indent: number;
  readonly text: string;
}

/**
 * Parses one YAML document of the subset.
 *
 * @param source The file's text.
 * @returns The value (null for an empty document).
 * @throws {SyntaxError} On anything outside the subset, with the line number.
 *
 * @example
 * ```ts
 * import { parseYamlSubset } from "./yaml_subset.ts";
 * const doc = parseYamlSubset("a:\n  b: 1 # one\n  c: [x, \"y\"]\nd:\n  - e: true\n    f: ~\n");
 * if (JSON.stringify(doc) !== '{"a":{"b":1,"c":["x","y"]},"d":[{"e":true,"f":null}]}') {
 *   throw new Error(JSON.stringify(doc));
 * }
 * ```
 */
export function parseYamlSubset(source: string): YamlValue {
  const lines: Line[] = [];
  source.split("\n").forEach((raw, index) => {
    const number = index + 1;
    const text = stripComment(raw.replace(/\r$/, ""), number).trimEnd();
    if (text.trim() === "") return;
    if (/^\t| \t/.test(text.match(/^[ \t]*/)![0])) fail(number, "tab in indentation");
    if (text === "---" && lines.length === 0) return;
    if (text === "---" || text === "...") fail(number, "several documents");
    const indent = text.length - text.trimStart().length;
    lines.push({ number, indent, text: text.trimStart() });
  });
  if (lines.length === 0) return null;
  const state = { index: 0 };
  const value = parseBlock(lines, state, lines[0]!.indent);
  if (state.index < lines.length) fail(lines[state.index]!.number, "unexpected indentation");
  return value;
}

function fail(line: number, what: string): never {
  throw new SyntaxError(`Cannot parse YAML: line ${line}: ${what}`);
}

/** Removes a comment (`#` at the start or after a space, outside quotes). */
function stripComment(line: string, number: number): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== undefined) {
      if (ch === "\\" && quote === '"') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      if (i === 0 || /[\s\[,:{-]/.test(line[i - 1]!)) quote = ch;
    } else if (ch === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  if (quote !== undefined) fail(number, "unterminated quoted string");
  return line;
}

function parseBlock(lines: Line[], state: { index: number }, indent: number): YamlValue {
  const first = lines[state.index]!;
  if (first.indent !== indent) fail(first.number, "unexpected indentation");
  return first.text === "-" || first.text.startsWith("- ")
    ? parseSequence(lines, state, indent)
    : parseMapping(lines, state, indent);
}

function parseSequence(lines: Line[], state: { index: number }, indent: number): YamlValue[] {
  const items: YamlValue[] = [];
  while (state.index < lines.length) {
    const line = lines[state.index]!;
    if (line.indent < indent) break;
    if (line.indent > indent) fail(line.number, "unexpected indentation");
    if (!(line.text === "-" || line.text.startsWith("- "))) break;
    const rest = line.text.slice(1).trimStart();
    if (rest === "") {
      state.index++;
      const next = lines[state.index];
      items.push(
        next !== undefined && next.indent > indent ? parseBlock(lines, state, next.indent) : null,
      );
    } else if (splitKey(rest, line.number) !== undefined) {
      // "- key: value": a mapping whose keys sit at the column after "- ".
      const column = indent + (line.text.length - rest.length);
      lines[state.index] = { number: line.number, indent: column, text: rest };
      items.push(parseMapping(lines, state, column));
    } else {
      items.push(parseScalarOrFlow(rest, line.number));
      state.index++;
    }
  }
  return items;
}

function parseMapping(
  lines: Line[],
  state: { index: number },
  indent: number,
): { [key: string]: YamlValue } {
  const map: { [key: string]: YamlValue } = {};
  while (state.index < lines.length) {
    const line = lines[state.index]!;
    if (line.indent < indent) break;
    if (line.indent > indent) fail(line.number, "unexpected indentation");
    if (line.text.startsWith("- ") || line.text === "-") break;
    const split = splitKey(line.text, line.number);
    if (split === undefined) fail(line.number, `expected "key: value", got ${line.text}`);
    const [key, rest] = split;
    if (Object.hasOwn(map, key)) fail(line.number, `duplicate key "${key}"`);
    state.index++;
    if (rest !== "") {
      map[key] = parseScalarOrFlow(rest, line.number);
      continue;
    }
    const next = lines[state.index];
    if (next !== undefined && next.indent > indent) {
      map[key] = parseBlock(lines, state, next.indent);
    } else if (next !== undefined && next.indent === indent && next.text.startsWith("- ")) {
      map[key] = parseSequence(lines, state, indent);
    } else map[key] = null;
  }
  return map;
}

/** Splits `key: rest` (key plain or quoted); undefined when the line is not a mapping entry. */
function splitKey(text: string, number: number): [string, string] | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = text.indexOf(text[0]!, 1);
    if (end < 0) fail(number, "unterminated quoted key");
    const after = text.slice(end + 1);
    if (!(after === ":" || after.startsWith(": "))) return undefined;
    return [String(parseScalar(text.slice(0, end + 1), number)), after.slice(1).trim()];
  }
  const match = /^([^\s:#\[\]{},"'&*!|>%@`][^:#]*?)\s*:(?:\s+(.*))?$/.exec(text);
  if (match === null) return undefined;
  if (/[&*!]/.test((match[2] ?? "").charAt(0))) fail(number, "anchors, aliases and tags");
  return [match[1]!, (match[2] ?? "").trim()];
}

function parseScalarOrFlow(text: string, number: number): YamlValue {
  if (text === "{}") return {};
  if (text.startsWith("{")) fail(number, "flow mappings with content");
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) fail(number, "a flow sequence must end on its line");
    const inner = text.slice(1, -1).trim();
    if (inner === "") return [];
    return splitFlow(inner, number).map((item) => parseScalar(item, number));
  }
  if (/^[|>]/.test(text)) fail(number, "block scalars");
  return parseScalar(text, number);
}

function splitFlow(inner: string, number: number): string[] {
  const items: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (quote !== undefined) {
      current += ch;
      if (ch === "\\" && quote === '"') current += inner[++i] ?? "";
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === ",") {
      items.push(current.trim());
      current = "";
    } else if ("[]{}".includes(ch)) fail(number, "nested flow collections");
    else current += ch;
  }
  items.push(current.trim());
  return items;
}

function parseScalar(text: string, number: number): YamlValue {
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) fail(number, "bad double-quoted string");
    try {
      return JSON.parse(text) as string;
    } catch {
      fail(number, "bad escape in a double-quoted string");
    }
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) fail(number, "bad single-quoted string");
    const body = text.slice(1, -1);
    if (/(^|[^'])'([^']|$)/.test(body)) fail(number, "unescaped ' in a single-quoted string");
    return body.replaceAll("''", "'");
  }
  if (/^[&*!]/.test(text)) fail(number, "anchors, aliases and tags");
  if (text === "null" || text === "~" || text === "Null" || text === "NULL") return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^(yes|no|on|off|y|n)$/i.test(text)) fail(number, `ambiguous scalar "${text}": quote it`);
  return text;
}
