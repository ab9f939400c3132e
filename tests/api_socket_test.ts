import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort, startServer } from "./support/server_process.ts";
import { randomVector, seededRandom, testSeed } from "./support/seeded_random.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The default `server.shutdown_timeout_ms`: a clean stop must beat it. */
const SHUTDOWN_BOUND_MS = 10_000;

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

Deno.test("socket: the operators' post-deploy smoke test, then SIGTERM exits 0 in time", async () => {
  const random = seededRandom(testSeed("socket smoke test"));
  const server = await startServer();
  try {
    const base = server.baseUrl;
    const created = await post(`${base}/api/v1/collections`, {
      name: "smoke-test",
      dimension: 128,
      metric: "cosine",
    });
    assert.equal(created.status, 201);
    const collectionId = (await created.json()).collection_id;
    assert.equal(typeof collectionId, "string");

    for (let n = 0; n < 100; n++) {
      const response = await post(`${base}/api/v1/collections/${collectionId}/vectors`, {
        id: `vec-${n}`,
        vector: Array.from(randomVector(random, 128)),
      });
      assert.equal(response.status, 200, (await response.clone().text()) + server.log());
      assert.equal((await response.json()).upserted, 1);
    }

    const search = await post(`${base}/api/v1/collections/${collectionId}/search`, {
      vector: Array.from(randomVector(random, 128)),
      k: 10,
    });
    assert.equal(search.status, 200);
    const { results } = await search.json();
    assert.equal(results.length, 10);

    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.ok((await health.text()).includes("ok"));
  } finally {
    const { status, elapsedMs, killed } = await server.stop(SHUTDOWN_BOUND_MS + 5_000);
    assert.equal(killed, false, `SIGTERM did not stop the server; log:\n${server.log()}`);
    assert.equal(status.code, 0, server.log());
    assert.ok(elapsedMs < SHUTDOWN_BOUND_MS, `stopped in ${elapsedMs} ms`);
    assert.match(server.log(), /"msg":"stopped"/);
  }
});

Deno.test("socket: search bodies are read with and without Content-Length, under the limit", async () => {
  const random = seededRandom(testSeed("socket body read"));
  const server = await startServer({ env: { AKIDB_MAX_BODY_BYTES: String(1 << 20) } });
  const chunked = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        // Two chunks and no Content-Length: fetch sends it chunked.
        const bytes = new TextEncoder().encode(text);
        controller.enqueue(bytes.subarray(0, 100));
        controller.enqueue(bytes.subarray(100));
        controller.close();
      },
    });
  try {
    const base = server.baseUrl;
    const created = await post(`${base}/api/v1/collections`, {
      name: "b",
      dimension: 8,
      metric: "l2",
    });
    assert.equal(created.status, 201, await created.clone().text());
    const vector = Array.from(randomVector(random, 8));
    assert.equal(
      (await post(`${base}/api/v1/collections/b/vectors`, { id: 1, vector })).status,
      200,
    );
    const body = JSON.stringify({ vector, k: 1 });
    const url = `${base}/api/v1/collections/b/search`;
    // With Content-Length (one native read).
    const declared = await post(url, { vector, k: 1 });
    assert.equal(declared.status, 200);
    assert.equal((await declared.json()).results[0].id, 1);
    // Chunked (the stream reader with the limit per chunk).
    const streamed = await fetch(url, { method: "POST", body: chunked(body) });
    assert.equal(streamed.status, 200, await streamed.clone().text());
    assert.equal((await streamed.json()).results[0].id, 1);
    // Over the limit either way: 413, and the server goes on.
    const padded = JSON.stringify({ vector, k: 1, pad: "x".repeat(1_100_000) });
    for (const init of [{ body: padded }, { body: chunked(padded) }]) {
      const response = await fetch(url, { method: "POST", ...init });
      assert.equal(response.status, 413);
      assert.equal((await response.json()).error.code, "payload_too_large");
    }
    assert.equal((await fetch(`${base}/health`)).status, 200);
  } finally {
    const { status } = await server.stop();
    assert.equal(status.code, 0, server.log());
  }
});

Deno.test("socket: writes survive a restart on the same data directory; auth over the wire", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "akidb-socket-" });
  const key = "s".repeat(20);
  const auth = { authorization: `Bearer ${key}` };
  try {
    const first = await startServer({ dataDir, flags: ["--api-keys", key] });
    try {
      const unauthorized = await post(`${first.baseUrl}/api/v1/collections`, {});
      assert.equal(unauthorized.status, 401);
      await unauthorized.body?.cancel();
      const created = await post(
        `${first.baseUrl}/api/v1/collections`,
        { name: "kept", dimension: 2, metric: "l2" },
        auth,
      );
      assert.equal(created.status, 201);
      await created.body?.cancel();
      const upserted = await post(
        `${first.baseUrl}/api/v1/collections/kept/vectors`,
        { vectors: [{ id: "a", vector: [3, 4], metadata: { n: 1 } }, { id: 9, vector: [1, 1] }] },
        auth,
      );
      assert.equal(upserted.status, 200);
      await upserted.body?.cancel();
    } finally {
      assert.equal((await first.stop()).status.code, 0, first.log());
    }
    const second = await startServer({ dataDir, flags: ["--api-keys", key] });
    try {
      const point = await fetch(`${second.baseUrl}/api/v1/collections/kept/vectors/a`, {
        headers: auth,
      });
      assert.equal(point.status, 200);
      assert.deepEqual(await point.json(), { id: "a", vector: [3, 4], metadata: { n: 1 } });
      const integer = await fetch(`${second.baseUrl}/api/v1/collections/kept/vectors/9`, {
        headers: auth,
      });
      assert.equal((await integer.json()).id, 9);
    } finally {
      assert.equal((await second.stop()).status.code, 0, second.log());
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("socket: SIGTERM lets a request in flight finish before exiting 0", async () => {
  const server = await startServer();
  try {
    const created = await post(`${server.baseUrl}/api/v1/collections`, {
      name: "inflight",
      dimension: 2,
      metric: "l2",
    });
    assert.equal(created.status, 201);
    await created.body?.cancel();
    const encoder = new TextEncoder();
    const { promise: firstHalfSent, resolve: sentFirstHalf } = Promise.withResolvers<void>();
    const { promise: sendRest, resolve: releaseRest } = Promise.withResolvers<void>();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode('{"id":"late","vec'));
        sentFirstHalf();
        await sendRest;
        controller.enqueue(encoder.encode('tor":[1,2]}'));
        controller.close();
      },
    });
    const pending = fetch(`${server.baseUrl}/api/v1/collections/inflight/vectors`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await firstHalfSent;
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await fetch(`${server.baseUrl}/health`); // the server is draining
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error.code, "shutting_down");
    releaseRest();
    const response = await pending;
    assert.equal(response.status, 200, (await response.clone().text()) + server.log());
    assert.equal((await response.json()).upserted, 1);
  } finally {
    const { status, killed } = await server.stop();
    assert.equal(killed, false, server.log());
    assert.equal(status.code, 0, server.log());
  }
});

Deno.test("cli: --version, --help; configuration errors exit 2, an engine that cannot open exits 1", async () => {
  const run = async (...args: string[]) => {
    const output = await new Deno.Command(`${ROOT}node_modules/.bin/deno`, {
      args: ["run", "-A", `${ROOT}src/main.ts`, ...args],
      env: { RUST_BACKTRACE: "0", NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  };
  const version = await run("--version");
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^akidb \d+\.\d+\.\d+/);
  const help = await run("serve", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: akidb/);
  assert.match(help.stdout, /--port <int>/);
  const badFlag = await run("--prot", "1");
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--prot/);
  const badCommand = await run("frobnicate");
  assert.equal(badCommand.code, 2);
  assert.match(badCommand.stderr, /unknown command "frobnicate"/);

  // An engine that cannot open (the data directory is a regular file) stops the server with 1.
  const notADirectory = await Deno.makeTempFile({ prefix: "akidb-not-a-dir-" });
  try {
    const port = String(freePort());
    const broken = await run("serve", "--port", port, "--data-dir", notADirectory);
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stderr, /"msg":"cannot start the engine"/);
  } finally {
    await Deno.remove(notADirectory);
  }
});
