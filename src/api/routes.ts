/**
 * The routes of `/api/v1/collections`: each handler reads and validates the
 * request, makes one engine call and renders the result. Errors are thrown,
 * never turned into responses here.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { Engine } from "../engine/engine_types.ts";
import { NotFoundError } from "../errors.ts";
import { formatPointId, type PointId } from "../index/point_id.ts";
import type { ParsePool } from "./parse_pool.ts";
import { readBodyBytes, readJsonBody } from "./read_json_body.ts";
import { renderCollection, renderPoint, renderSearchResult } from "./render.ts";
import { type ParsedUpsert, parseUpsertBytes, toPointInputs } from "./upsert_batch.ts";
import {
  checkDimension,
  parseCollectionRef,
  parseCreateCollection,
  parsePathPointId,
  parseSearch,
} from "./validate_request.ts";

/** What the routes need. */
export interface RouteServices {
  readonly engine: Engine;
  readonly maxBodyBytes: number;
  readonly maxBatchPoints: number;
  /** Workers that parse large upsert bodies; without it every body is parsed inline. */
  readonly parsePool?: ParsePool | undefined;
}

/**
 * Adds the collection, vector and search routes to an app.
 *
 * @param app The app.
 * @param services The engine and the request limits.
 */
export function addCollectionRoutes(app: Hono, services: RouteServices): void {
  const { engine, maxBodyBytes, maxBatchPoints, parsePool } = services;
  const base = "/api/v1/collections";
  const body = (c: Context) => readJsonBody(c.req.raw, maxBodyBytes);
  const collection = (c: Context) => parseCollectionRef(c.req.param("c") ?? "");

  app.post(base, async (c) => {
    const info = await engine.createCollection(parseCreateCollection(await body(c)));
    return c.json(renderCollection(info), 201);
  });
  app.get(base, (c) => c.json({ collections: engine.listCollections().map(renderCollection) }));
  app.get(`${base}/:c`, (c) => c.json(renderCollection(engine.getCollection(collection(c)))));
  app.delete(`${base}/:c`, async (c) => {
    await engine.deleteCollection(collection(c));
    return c.body(null, 204);
  });

  app.post(`${base}/:c/vectors`, async (c) => {
    const name = collection(c);
    const bytes = await readBodyBytes(c.req.raw, maxBodyBytes);
    // The lookup's error is thrown only after the body is found valid: a bad body is
    // reported first, whichever thread parses it.
    let dimension: number | undefined;
    let lookupError: unknown;
    try {
      dimension = engine.getCollection(name).dimension;
    } catch (error) {
      lookupError = error;
    }
    const batch: ParsedUpsert | undefined = parsePool === undefined
      ? parseUpsertBytes(bytes, maxBatchPoints, dimension)
      : await parsePool.parseUpsert(bytes, maxBatchPoints, dimension);
    if (batch === undefined) throw lookupError;
    const { upserted, lsn } = await engine.upsert(name, toPointInputs(batch));
    return c.json({ upserted, lsn });
  });
  app.get(`${base}/:c/vectors/:id`, async (c) => {
    const name = collection(c);
    const id = await resolvePointId(engine, name, c.req.param("id") ?? "");
    const point = await engine.getPoint(name, id);
    if (point === undefined) throw pointNotFound(name, id);
    return c.json(renderPoint(point));
  });
  app.delete(`${base}/:c/vectors/:id`, async (c) => {
    const name = collection(c);
    const id = await resolvePointId(engine, name, c.req.param("id") ?? "");
    const { deleted, lsn } = await engine.deletePoint(name, id);
    if (!deleted) throw pointNotFound(name, id);
    return c.json({ deleted, lsn });
  });

  app.post(`${base}/:c/search`, async (c) => {
    const name = collection(c);
    const request = parseSearch(await body(c));
    const { dimension } = engine.getCollection(name);
    checkDimension(request.vector, dimension, `search collection ${JSON.stringify(name)}`);
    const startMs = performance.now();
    const results = await engine.search(name, request);
    const tookMs = Math.round((performance.now() - startMs) * 1000) / 1000;
    return c.json({ results: results.map(renderSearchResult), took_ms: tookMs });
  });
}

/**
 * The id a path names: the string id when such a point exists; otherwise,
 * for an all-digit path, the integer id when such a point exists; otherwise
 * the string (which the caller reports as not found).
 */
async function resolvePointId(engine: Engine, collection: string, raw: string): Promise<PointId> {
  const { text, integer } = parsePathPointId(raw);
  if (integer === undefined || (await engine.getPoint(collection, text)) !== undefined) return text;
  return (await engine.getPoint(collection, integer)) !== undefined ? integer : text;
}

function pointNotFound(collection: string, id: PointId): NotFoundError {
  return new NotFoundError(
    `Cannot find point ${formatPointId(id)} in collection ${
      JSON.stringify(collection)
    }: no such id`,
    { code: "point_not_found" },
  );
}
