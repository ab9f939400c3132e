/**
 * A small in-memory {@linkcode Engine} for HTTP tests that need what the real
 * engine cannot do on demand: throw an unexpected error, or stay "recovering".
 * Brute-force search; cosine scores as similarity, l2 as distance, dot as dot.
 *
 * @module
 */

import type {
  CollectionInfo,
  CollectionSpec,
  Engine,
  PointInput,
  PointRecord,
  Readiness,
  SearchRequest,
  SearchResult,
} from "../../src/engine/engine_types.ts";
import { ConflictError, NotFoundError } from "../../src/errors.ts";
import { type PointId, validatePointId } from "../../src/index/point_id.ts";

interface FakeCollection {
  info: CollectionInfo;
  points: Map<string, PointRecord>;
}

/** Knobs of the fake. */
export interface FakeEngineOptions {
  /** Every call but `readiness` and `close` throws what this returns. */
  readonly failWith?: () => unknown;
  /** Initial readiness; change it with `setReadiness`. */
  readonly readiness?: Readiness;
}

/** The fake, with a switch for readiness. */
export interface FakeEngine extends Engine {
  setReadiness(readiness: Readiness): void;
  readonly closed: boolean;
}

/**
 * Builds the fake engine.
 *
 * @param options Failure injection and initial readiness.
 * @returns The engine.
 */
export function createFakeEngine(options: FakeEngineOptions = {}): FakeEngine {
  const collections = new Map<string, FakeCollection>();
  let readiness: Readiness = options.readiness ?? { recovered: true, failedCollections: [] };
  let closed = false;
  let lsn = 0;
  const check = () => {
    if (options.failWith !== undefined) throw options.failWith();
  };
  const find = (c: string): FakeCollection => {
    check();
    for (const collection of collections.values()) {
      if (collection.info.collectionId === c || collection.info.name === c) return collection;
    }
    throw new NotFoundError(`Cannot find collection "${c}": no such name or id`, {
      code: "collection_not_found",
    });
  };
  const key = (id: PointId) => `${typeof id}:${id}`;
  const count = (collection: FakeCollection): CollectionInfo => ({
    ...collection.info,
    vectorCount: collection.points.size,
  });
  return {
    readiness: () => readiness,
    setReadiness(next) {
      readiness = next;
    },
    get closed() {
      return closed;
    },
    createCollection(spec: CollectionSpec): Promise<CollectionInfo> {
      check();
      for (const collection of collections.values()) {
        if (collection.info.name === spec.name) {
          throw new ConflictError(`Cannot create collection "${spec.name}": the name is taken`, {
            code: "collection_exists",
          });
        }
      }
      const info: CollectionInfo = {
        collectionId: crypto.randomUUID(),
        name: spec.name,
        dimension: spec.dimension,
        metric: spec.metric,
        hnsw: { m: 16, efConstruction: 200, efSearch: 64, ...spec.hnsw },
        vectorCount: 0,
        tier: "hot",
        createdAt: new Date().toISOString(),
      };
      collections.set(info.collectionId, { info, points: new Map() });
      return Promise.resolve(info);
    },
    listCollections: () => {
      check();
      return [...collections.values()].map(count);
    },
    getCollection: (c) => count(find(c)),
    deleteCollection(c) {
      collections.delete(find(c).info.collectionId);
      return Promise.resolve();
    },
    upsert(c, points: readonly PointInput[]) {
      const collection = find(c);
      for (const point of points) {
        validatePointId(point.id, "upsert");
        if (point.vector.length !== collection.info.dimension) {
          throw Object.assign(
            new RangeError(
              `Cannot upsert point ${
                JSON.stringify(point.id)
              }: dimension is ${point.vector.length}, expected ${collection.info.dimension}`,
            ),
            { code: "dimension_mismatch" },
          );
        }
      }
      for (const point of points) {
        collection.points.set(key(point.id), { ...point, metadata: point.metadata });
      }
      lsn += 1;
      return Promise.resolve({ upserted: points.length, lsn });
    },
    getPoint: (c, id) => Promise.resolve(find(c).points.get(key(id))),
    deletePoint(c, id) {
      const deleted = find(c).points.delete(key(id));
      if (deleted) lsn += 1;
      return Promise.resolve({ deleted, lsn });
    },
    search(c, request: SearchRequest): Promise<SearchResult[]> {
      const collection = find(c);
      if (request.vector.length !== collection.info.dimension) {
        throw Object.assign(
          new RangeError(
            `Cannot search: dimension is ${request.vector.length}, expected ${collection.info.dimension}`,
          ),
          { code: "dimension_mismatch" },
        );
      }
      const scored = [...collection.points.values()].map((point) => ({
        point,
        score: score(collection.info.metric, request.vector, point.vector),
      }));
      const lowerIsBetter = collection.info.metric === "l2";
      scored.sort((a, b) => lowerIsBetter ? a.score - b.score : b.score - a.score);
      return Promise.resolve(
        scored.slice(0, request.k).map(({ point, score }) => ({
          id: point.id,
          score,
          ...(request.includeMetadata === true ? { metadata: point.metadata } : {}),
          ...(request.includeVector === true ? { vector: point.vector } : {}),
        })),
      );
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}

function score(metric: string, a: Float32Array, b: Float32Array): number {
  let dot = 0, aa = 0, bb = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    dot += x * y;
    aa += x * x;
    bb += y * y;
    l2 += (x - y) ** 2;
  }
  if (metric === "l2") return Math.sqrt(l2);
  if (metric === "dot") return dot;
  return dot / (Math.sqrt(aa * bb) || 1);
}
