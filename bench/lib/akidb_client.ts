/**
 * A small HTTP client of AkiDB's JSON API for the benchmarks (fetch with keep-alive, Deno's
 * default connection pool). Every call reads the whole answer and throws on a non-2xx status.
 *
 * Deno 2.9.5 closed the connection after every body over 1 KiB (denoland/deno#36657); 2.9.6,
 * which the project pins, keeps it alive, so searches reuse pooled connections.
 *
 * @module
 */

/** A search hit as the API returns it. */
export interface HttpHit {
  readonly id: string | number;
  readonly score: number;
}

/** Talks to one server. */
export class AkiClient {
  readonly baseUrl: string;

  /** @param baseUrl `http://127.0.0.1:<port>` */
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  /**
   * Sends a request with a JSON (or pre-serialized) body and returns the parsed answer.
   *
   * @throws {Error} On a non-2xx status (the message holds the answer).
   */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`Cannot ${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    }
    return text.length === 0 ? undefined : JSON.parse(text);
  }

  /** Creates a collection. */
  createCollection(spec: {
    name: string;
    dimension: number;
    metric: string;
    hnsw?: { m?: number; ef_construction?: number; ef_search?: number };
  }): Promise<unknown> {
    return this.call("POST", "/api/v1/collections", spec);
  }

  /** The collection object (`vector_count` is exact). */
  async collection(name: string): Promise<{ vector_count: number }> {
    return await this.call("GET", `/api/v1/collections/${name}`) as { vector_count: number };
  }

  /** Upserts a pre-serialized `{"vectors":[…]}` body; resolves once durable. */
  async upsertBody(name: string, body: string): Promise<{ upserted: number; lsn: number }> {
    return await this.call("POST", `/api/v1/collections/${name}/vectors`, body) as {
      upserted: number;
      lsn: number;
    };
  }

  /** Runs a pre-serialized search body; returns the hits. */
  async searchBody(name: string, body: string): Promise<HttpHit[]> {
    return (await this.searchWithTime(name, body)).results;
  }

  /** Runs a pre-serialized search body; returns the hits and the server's `took_ms`. */
  async searchWithTime(
    name: string,
    body: string,
  ): Promise<{ results: HttpHit[]; took_ms: number }> {
    return await this.call("POST", `/api/v1/collections/${name}/search`, body) as {
      results: HttpHit[];
      took_ms: number;
    };
  }
}

/**
 * Serializes points as an upsert body with integer ids `firstId…`.
 *
 * @param vectors Row-major `count × dimension`.
 * @param dimension Vector length.
 * @param firstId Id of the first row.
 * @returns `{"vectors":[{"id":…,"vector":[…]},…]}`
 */
export function upsertBody(vectors: Float32Array, dimension: number, firstId: number): string {
  const parts: string[] = [];
  const count = vectors.length / dimension;
  for (let row = 0; row < count; row++) {
    const vector = vectors.subarray(row * dimension, (row + 1) * dimension);
    parts.push(`{"id":${firstId + row},"vector":[${vector.join(",")}]}`);
  }
  return `{"vectors":[${parts.join(",")}]}`;
}

/**
 * Serializes a search body.
 *
 * @param vector The query.
 * @param k Results wanted.
 * @param ef Per-query efSearch (HTTP field `ef`).
 * @returns The JSON text.
 */
export function searchBody(vector: Float32Array, k: number, ef: number): string {
  return `{"vector":[${vector.join(",")}],"k":${k},"ef":${ef}}`;
}
