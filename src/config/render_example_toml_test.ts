import { parse } from "smol-toml";
import { assert, assertEquals } from "./_assert.ts";
import { CONFIG_KEYS, loadConfig, renderExampleToml } from "./mod.ts";
import { EXAMPLE_TOML_URL } from "./render_example_toml.ts";

const example = Deno.readTextFileSync(EXAMPLE_TOML_URL);
const examplePath = EXAMPLE_TOML_URL.pathname;

Deno.test("config.example.toml is exactly what the schema renders", () => {
  assert(
    example === renderExampleToml(),
    "config.example.toml is stale: run `deno run --allow-write src/config/render_example_toml.ts`",
  );
});

Deno.test("config.example.toml loads to exactly the defaults", () => {
  const fromExample = loadConfig(["--config", examplePath], {});
  const fromNothing = loadConfig([], {});
  assertEquals(fromExample, { ...fromNothing, configFile: examplePath });
  assertEquals(fromExample.warnings, []);
  // S3 is off by default, so check the s3 keys with a bucket set from the environment.
  const withBucket = loadConfig(["--config", examplePath], { AKIDB_S3_BUCKET: "bucket" });
  for (const key of CONFIG_KEYS) {
    const config = key.section === "s3" ? withBucket : fromExample;
    const section = config[key.section] as Readonly<Record<string, unknown>> | undefined;
    const expected = key.path === "s3.bucket" ? "bucket" : key.descriptor.default;
    assertEquals(section?.[key.property], expected, key.path);
  }
});

Deno.test("every key of the table appears in config.example.toml, and nothing else", () => {
  const document = parse(example) as Record<string, Record<string, unknown>>;
  const inExample = Object.entries(document).flatMap(([section, table]) =>
    Object.keys(table).map((name) => `${section}.${name}`)
  );
  assertEquals(inExample.sort(), CONFIG_KEYS.map((key) => key.path).sort());
  for (const key of CONFIG_KEYS) {
    assert(example.includes(`# ${key.descriptor.doc}.`), `${key.path} has no comment`);
  }
});
