/**
 * API-key authentication. Keys are compared by their SHA-256 digests with a
 * timing-safe comparison, against every configured key, so neither the
 * position of the first differing byte nor which key matched shows in the
 * response time.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler, Next } from "hono";
import type { ApiKey } from "../config/mod.ts";
import { ApiError } from "./api_error.ts";

/** How to build the {@linkcode apiKeyAuth} middleware. */
export interface ApiKeyAuthOptions {
  /** The configured keys; none turns authentication off. */
  readonly apiKeys: readonly ApiKey[];
  /** Paths served without a key (exact matches). */
  readonly publicPaths: readonly string[];
}

interface KeyDigest {
  readonly digest: Buffer;
  readonly readOnly: boolean;
}

/**
 * Builds the authentication middleware: `Authorization: Bearer <key>` or
 * `api-key: <key>` on every path but the public ones. Read-only keys may
 * `GET`/`HEAD` and `POST …/search`; any other request with one gets 403.
 *
 * @param options The keys and the public paths.
 * @returns The middleware; it passes everything through when no key is configured.
 * @throws {ApiError} From the middleware: 401 `unauthorized`, 403 `forbidden`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { apiKeyAuth } from "./auth.ts";
 * const app = new Hono();
 * app.use(apiKeyAuth({ apiKeys: [{ key: "k".repeat(16), readOnly: false }], publicPaths: [] }));
 * app.get("/x", (c) => c.text("ok"));
 * const response = await app.request("/x", { headers: { "api-key": "k".repeat(16) } });
 * assert.equal(response.status, 200);
 * ```
 */
export function apiKeyAuth(options: ApiKeyAuthOptions): MiddlewareHandler {
  const keys: readonly KeyDigest[] = options.apiKeys.map((apiKey) => ({
    digest: sha256(apiKey.key),
    readOnly: apiKey.readOnly,
  }));
  const publicPaths = new Set(options.publicPaths);
  return async function apiKeyAuth(c: Context, next: Next): Promise<void> {
    if (keys.length === 0 || publicPaths.has(c.req.path)) return await next();
    const presented = presentedKey(c);
    if (presented === undefined) {
      throw unauthorized(
        "Cannot authorize request: no API key given (Authorization: Bearer <key> or api-key: <key>)",
      );
    }
    const match = findKey(keys, sha256(presented));
    if (match === undefined) {
      throw unauthorized("Cannot authorize request: the API key is not valid");
    }
    if (match.readOnly && !isReadRequest(c.req.method, c.req.path)) {
      throw new ApiError(
        403,
        "forbidden",
        `Cannot ${c.req.method} ${c.req.path}: the API key is read-only`,
      );
    }
    await next();
  };
}

function presentedKey(c: Context): string | undefined {
  const authorization = c.req.header("authorization");
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  const header = c.req.header("api-key");
  return header === undefined || header === "" ? undefined : header.trim();
}

/** Compares against every key (no early exit) with a timing-safe comparison. */
function findKey(keys: readonly KeyDigest[], digest: Buffer): KeyDigest | undefined {
  let found: KeyDigest | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest) && found === undefined) found = key;
  }
  return found;
}

function isReadRequest(method: string, path: string): boolean {
  if (method === "GET" || method === "HEAD") return true;
  return method === "POST" && /^\/api\/v1\/collections\/[^/]+\/search$/.test(path);
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, "unauthorized", message, {
    headers: { "www-authenticate": 'Bearer realm="akidb"' },
  });
}
