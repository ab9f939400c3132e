import { assert, assertEquals } from "./_assert.ts";
import { CONFIG_KEYS, describeConfig, loadConfig, REDACTED } from "./mod.ts";

Deno.test("describeConfig redacts set secrets and keeps unset ones visible", () => {
  const key = "0123456789abcdef";
  const config = loadConfig(["--api-keys", `${key}:ro`], {
    AKIDB_S3_BUCKET: "bucket",
    AKIDB_S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
    AKIDB_S3_SECRET_ACCESS_KEY: "very-secret-value",
  });
  const fields = describeConfig(config);
  assertEquals(
    [fields["auth.api_keys"], fields["s3.access_key_id"], fields["s3.secret_access_key"]],
    [REDACTED, REDACTED, REDACTED],
  );
  const text = JSON.stringify(fields);
  for (const secret of [key, "AKIAEXAMPLE", "very-secret-value"]) {
    assert(!text.includes(secret), secret);
  }
  assertEquals(fields["s3.bucket"], "bucket");
  assertEquals(fields["wal.sync_mode"], { kind: "always" });
  assertEquals(Object.keys(fields), CONFIG_KEYS.map((k) => k.path));
});

Deno.test("describeConfig leaves out s3 keys when S3 is off and names the file", () => {
  const config = loadConfig(["--config", "a.toml"], {}, () => "[server]\nport = 1234\n");
  const fields = describeConfig(config);
  assertEquals(fields.config_file, "a.toml");
  assertEquals(fields["server.port"], 1234);
  assertEquals(fields["auth.api_keys"], []);
  assert(Object.keys(fields).every((name) => !name.startsWith("s3.")), "s3 keys while S3 is off");
});
