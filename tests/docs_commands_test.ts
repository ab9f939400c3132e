/**
 * The `curl` commands of docs/PLAYBOOKS.md and docs/RUNBOOK.md that target
 * the local API (`$AKIDB`) run against a real server (with API keys and
 * s3rver, so the admin routes are live); none may answer 404 or 5xx.
 *
 * Placeholders, defined in PLAYBOOKS.md: `$AKIDB` (base URL) and `$AUTH`
 * (the Authorization header) are set in the environment; `<c>` becomes a
 * collection holding points and a snapshot, `<id>` one of its points, `[…]`
 * a vector of its dimension. Pipes (`| jq …`) and trailing comments are cut:
 * only the HTTP status is checked.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startS3Server } from "./support/s3_server.ts";
import { startServer } from "./support/server_process.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DOCS = ["docs/PLAYBOOKS.md", "docs/RUNBOOK.md"];
const KEY = "docs-test-key-0123456789";
const COLLECTION = "docs";
const POINT = "p1";
const DIMENSION = 4;

/** Cuts a shell command at the first `|` or ` #` outside quotes. */
function cutAtPipe(command: string): string {
  let quote: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "|" || (ch === "#" && command[i - 1] === " ")) return command.slice(0, i);
  }
  return command;
}

/**
 * Every `curl …` in code blocks and inline code that targets `$AKIDB`.
 *
 * @param markdown A document.
 * @returns The commands, in document order.
 */
export function localCurlCommands(markdown: string): string[] {
  const snippets: string[] = [];
  let inBlock = false;
  for (const line of markdown.split("\n")) {
    if (line.trimStart().startsWith("```")) {
      inBlock = !inBlock;
      continue;
    }
    if (inBlock) snippets.push(line);
    else for (const match of line.matchAll(/`([^`]+)`/g)) snippets.push(match[1]!);
  }
  return snippets
    .map((s) => s.trim())
    .filter((s) => s.startsWith("curl "))
    .map((s) => cutAtPipe(s).trim())
    .filter((s) => /\$\{?AKIDB(?![A-Za-z0-9_])/.test(s));
}

function substitute(command: string): string {
  const vector = JSON.stringify(Array.from({ length: DIMENSION }, (_, i) => i + 1));
  return command.replaceAll("<c>", COLLECTION).replaceAll("<id>", POINT).replaceAll("[…]", vector);
}

Deno.test("docs: the extractor finds curl commands and cuts pipes", () => {
  const found = localCurlCommands(
    '```sh\ncurl -s $AKIDB/ready | jq .\ncurl -s "$PROM/api"\n```\n' +
      'Run `curl -s -H "$AUTH" -X POST $AKIDB/x` and `curl $AKIDB_S3_ENDPOINT`.\n',
  );
  assert.deepEqual(found, ["curl -s $AKIDB/ready", 'curl -s -H "$AUTH" -X POST $AKIDB/x']);
});

Deno.test({
  name: "docs: every local curl command of the playbooks and runbook answers neither 404 nor 5xx",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const files = DOCS.filter((path) => {
      try {
        return Deno.statSync(`${ROOT}${path}`).isFile;
      } catch {
        console.log(`note: ${path} does not exist; skipped`);
        return false;
      }
    });
    assert.ok(files.includes("docs/PLAYBOOKS.md"));
    const commands = files.flatMap((path) =>
      localCurlCommands(Deno.readTextFileSync(`${ROOT}${path}`)).map((command) => ({
        path,
        command,
      }))
    );
    assert.ok(commands.length >= 20, `only ${commands.length} commands found`);
    const s3 = await startS3Server();
    const server = await startServer({
      flags: ["--api-keys", KEY],
      env: {
        AKIDB_S3_ENDPOINT: s3.endpoint,
        AKIDB_S3_BUCKET: s3.bucket,
        AKIDB_S3_ACCESS_KEY_ID: s3.accessKeyId,
        AKIDB_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
    });
    try {
      const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
      const api = `${server.baseUrl}/api/v1/collections`;
      const setup = [
        [api, { name: COLLECTION, dimension: DIMENSION, metric: "l2" }],
        [`${api}/${COLLECTION}/vectors`, { id: POINT, vector: [1, 2, 3, 4] }],
        [`${api}/${COLLECTION}/snapshots`, undefined],
      ] as const;
      for (const [url, body] of setup) {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body: body === undefined ? null : JSON.stringify(body),
        });
        assert.ok(response.ok, `${url}: ${response.status} ${await response.text()}`);
      }
      const failures: string[] = [];
      for (const { path, command } of commands) {
        const output = await new Deno.Command("bash", {
          args: ["-c", `${substitute(command)} -w '\\nHTTP_STATUS:%{http_code}'`],
          env: { AKIDB: server.baseUrl, AUTH: `Authorization: Bearer ${KEY}` },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(output.stdout);
        const status = Number(/HTTP_STATUS:(\d{3})\s*$/.exec(text)?.[1] ?? 0);
        if (status === 0 || status === 404 || status >= 500) {
          failures.push(`${path}: ${command}\n  → ${status || "no answer"}: ${text.slice(0, 200)}`);
        }
      }
      assert.deepEqual(failures, [], failures.join("\n"));
    } finally {
      await server.stop();
      await s3.stop();
    }
  },
});
