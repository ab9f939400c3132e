/**
 * Starts the real server for a benchmark (through `tests/support/server_process.ts`, unchanged)
 * and loads vectors into it over HTTP.
 *
 * @module
 */

import { type ServerProcess, startServer } from "../../tests/support/server_process.ts";
import { AkiClient, upsertBody } from "./akidb_client.ts";

export type { ServerProcess };

/**
 * Starts `src/main.ts serve` on 127.0.0.1 with a data directory (temporary unless given).
 *
 * @param dataDir Data directory to reuse, e.g. for a restart.
 * @param readyTimeoutMs How long to wait for `/ready`.
 * @param flags Extra server flags, e.g. `["--wal-sync-mode", "none"]`.
 * @returns The server and a client of it.
 */
export async function startBenchServer(
  dataDir?: string,
  readyTimeoutMs = 120_000,
  flags: readonly string[] = [],
): Promise<{ server: ServerProcess; client: AkiClient }> {
  const server = await startServer({
    ...(dataDir === undefined ? {} : { dataDir }),
    flags,
    readyTimeoutMs,
    env: { AKIDB_LOG_LEVEL: "warn" },
  });
  return { server, client: new AkiClient(server.baseUrl) };
}

/**
 * Upserts `count × dimension` vectors in batches (ids = row numbers) with `concurrency`
 * requests in flight; each resolves once durable.
 *
 * @returns Wall seconds.
 */
export async function loadVectors(
  client: AkiClient,
  collection: string,
  vectors: Float32Array,
  dimension: number,
  batchSize: number,
  concurrency: number,
): Promise<number> {
  const count = vectors.length / dimension;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const first = next;
      next = Math.min(count, next + batchSize);
      const rows = vectors.subarray(first * dimension, next * dimension);
      await client.upsertBody(collection, upsertBody(rows, dimension, first));
    }
  }));
  return (performance.now() - started) / 1000;
}
