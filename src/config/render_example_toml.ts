/**
 * `config.example.toml`, generated from the schema. Run this module to
 * rewrite the file at the repository root:
 * `deno run --allow-write src/config/render_example_toml.ts`.
 *
 * @module
 */

import { CONFIG_ENV, CONFIG_FLAG } from "./_sources.ts";
import { CONFIG_KEYS } from "./config_schema.ts";

/** Where the example lives, relative to this module. */
export const EXAMPLE_TOML_URL: URL = new URL("../../config.example.toml", import.meta.url);

/**
 * Renders the example configuration: every key with its default and a
 * one-line comment naming its environment variable and flag.
 *
 * @returns The TOML text.
 *
 * @example
 * ```ts
 * import { renderExampleToml } from "./render_example_toml.ts";
 * const toml = renderExampleToml();
 * if (!toml.includes("[server]\n") || !toml.includes("\nport = 8080\n")) throw new Error(toml);
 * ```
 */
export function renderExampleToml(): string {
  const lines = [
    "# AkiDB configuration: every key, set to its built-in default.",
    `# Precedence: built-in defaults < this file (${CONFIG_FLAG} <path> or ${CONFIG_ENV}) < AKIDB_* environment < flags.`,
    "# Unknown keys are errors. Generated from src/config/config_schema.ts by",
    "# `deno run --allow-write src/config/render_example_toml.ts`; a test keeps it in sync.",
  ];
  let section = "";
  for (const key of CONFIG_KEYS) {
    if (key.section !== section) {
      section = key.section;
      lines.push("", `[${section}]`);
    }
    const { env, flag, doc, type } = key.descriptor;
    const names = [
      env === undefined ? "" : ` Env ${env}.`,
      flag === undefined ? "" : ` Flag ${flag}.`,
    ];
    lines.push(
      `# ${doc}.${names.join("")}`,
      `${key.tomlName} = ${type.toToml(key.descriptor.default)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

if (import.meta.main) {
  Deno.writeTextFileSync(EXAMPLE_TOML_URL, renderExampleToml());
}
