/**
 * Reader for the shared benchmark vector sets (`../shared/data/<name>/`), brute-force ground
 * truth and tie-aware recall. Used by the recall tests and by `bench/ann.ts`.
 *
 * Layout (see `/work/shared/data/README.md`): a JSON header next to raw little-endian files —
 * base vectors `count × dim` float32, queries `queryCount × dim` float32, ground truth
 * `queryCount × k` int32 row ids (nearest first) and the matching float32 distances
 * (Euclidean for `l2`, `1 − cos` for `cosine`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** Metrics the shared data sets use; ground-truth distances follow {@linkcode datasetDistance}. */
export type DatasetMetric = "l2" | "cosine";

/** A data set fully loaded in memory. */
export interface Dataset {
  /** Set name, the header file's base name (e.g. `siftsmall`). */
  readonly name: string;
  /** Number of base vectors. */
  readonly count: number;
  /** Dimension of every vector. */
  readonly dim: number;
  /** Metric the ground truth was computed with. */
  readonly metric: DatasetMetric;
  /** Base vectors, row-major `count × dim`. */
  readonly base: Float32Array;
  /** Query vectors, row-major `queryCount × dim`; never part of the base. */
  readonly queries: Float32Array;
  /** Number of queries. */
  readonly queryCount: number;
  /** Exact neighbour row ids, row-major `queryCount × groundTruthWidth`, nearest first. */
  readonly groundTruth: Int32Array;
  /** Distances matching {@linkcode Dataset.groundTruth} (Euclidean or `1 − cos`). */
  readonly groundTruthDistances: Float32Array;
  /** Neighbours stored per query (100 for the shipped sets). */
  readonly groundTruthWidth: number;
  /** Base vector `index` as a view into {@linkcode Dataset.base} (no copy). */
  vector(index: number): Float32Array;
  /** Query vector `index` as a view into {@linkcode Dataset.queries} (no copy). */
  query(index: number): Float32Array;
}

/** Raw arrays from which {@linkcode makeDataset} builds a {@linkcode Dataset}. */
export interface DatasetParts {
  /** Set name. */
  name: string;
  /** Vector dimension. */
  dim: number;
  /** Ground-truth metric. */
  metric: DatasetMetric;
  /** Base vectors, `count × dim`. */
  base: Float32Array;
  /** Query vectors, `queryCount × dim`. */
  queries: Float32Array;
  /** Ground-truth ids, `queryCount × groundTruthWidth`. */
  groundTruth: Int32Array;
  /** Ground-truth distances, same shape. */
  groundTruthDistances: Float32Array;
  /** Neighbours stored per query. */
  groundTruthWidth: number;
}

/** Relative tolerance under which two distances count as a tie. */
export const TIE_RELATIVE_TOLERANCE = 1e-5;
/** Absolute floor of the tie tolerance, for distances at or near 0 (float32 rounding). */
export const TIE_ABSOLUTE_TOLERANCE = 1e-7;

/**
 * Builds a {@linkcode Dataset} from raw arrays, checking that their shapes agree.
 *
 * @param parts The arrays and their shape.
 * @returns The data set.
 * @throws {RangeError} When an array's length does not match the declared shape.
 * @example
 * ```ts
 * import { makeDataset } from "./dataset.ts";
 * const ds = makeDataset({
 *   name: "tiny", dim: 2, metric: "l2",
 *   base: new Float32Array([0, 0, 1, 1]), queries: new Float32Array([0, 0]),
 *   groundTruth: new Int32Array([0, 1]), groundTruthDistances: new Float32Array([0, Math.SQRT2]),
 *   groundTruthWidth: 2,
 * });
 * if (ds.count !== 2 || ds.vector(1)[0] !== 1) throw new Error("bad dataset");
 * ```
 */
export function makeDataset(parts: DatasetParts): Dataset {
  const { name, dim, base, queries, groundTruth, groundTruthDistances, groundTruthWidth } = parts;
  const fail = (what: string) => new RangeError(`Cannot build dataset "${name}": ${what}`);
  if (!Number.isInteger(dim) || dim < 1) throw fail(`dim is ${dim}, expected a positive integer`);
  if (base.length % dim !== 0) throw fail(`base length ${base.length} is not a multiple of ${dim}`);
  if (queries.length % dim !== 0) {
    throw fail(`queries length ${queries.length} is not a multiple of ${dim}`);
  }
  const count = base.length / dim;
  const queryCount = queries.length / dim;
  const gtLength = queryCount * groundTruthWidth;
  if (groundTruth.length !== gtLength || groundTruthDistances.length !== gtLength) {
    throw fail(
      `ground truth holds ${groundTruth.length} ids and ${groundTruthDistances.length} ` +
        `distances, expected ${queryCount} × ${groundTruthWidth} = ${gtLength}`,
    );
  }
  return {
    name,
    count,
    dim,
    metric: parts.metric,
    base,
    queries,
    queryCount,
    groundTruth,
    groundTruthDistances,
    groundTruthWidth,
    vector: (index) => rowOf(base, dim, count, index, "vector"),
    query: (index) => rowOf(queries, dim, queryCount, index, "query"),
  };
}

function rowOf(data: Float32Array, dim: number, rows: number, index: number, what: string) {
  if (!Number.isInteger(index) || index < 0 || index >= rows) {
    throw new RangeError(`Cannot read ${what} ${index}: index out of range 0..${rows - 1}`);
  }
  return data.subarray(index * dim, (index + 1) * dim);
}

interface DatasetHeader {
  count: number;
  dim: number;
  metric: DatasetMetric;
  file: string;
  queriesFile: string;
  queryCount: number;
  gtFile: string;
  gtDistancesFile: string;
  gtWidth: number;
}

/**
 * Reads a data set from its JSON header and the raw files named in it (resolved next to the
 * header), validating every file size against the header.
 *
 * @param headerJsonPath Path of `<name>.json`.
 * @returns The loaded data set.
 * @throws {Deno.errors.NotFound} When the header or a data file is missing.
 * @throws {SyntaxError} When the header is not JSON.
 * @throws {TypeError} When the header lacks a field or a field has the wrong type.
 * @throws {RangeError} When a file's size disagrees with the header.
 * @example
 * ```ts ignore
 * import { readDataset, sharedDataPath } from "./dataset.ts";
 * const ds = await readDataset(sharedDataPath("siftsmall"));
 * if (ds.dim !== 128) throw new Error("unexpected dim");
 * ```
 */
export async function readDataset(headerJsonPath: string): Promise<Dataset> {
  const name = baseName(headerJsonPath).replace(/\.json$/, "");
  const text = await Deno.readTextFile(headerJsonPath);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot parse dataset header ${headerJsonPath}: ${error}`, {
      cause: error,
    });
  }
  const header = parseHeader(json, headerJsonPath);
  const dir = dirName(headerJsonPath);
  const read = async (file: string, rows: number, width: number, what: string) => {
    const path = `${dir}/${file}`;
    const bytes = await Deno.readFile(path);
    const expected = rows * width * 4;
    if (bytes.byteLength !== expected) {
      throw new RangeError(
        `Cannot read dataset "${name}": ${file} is ${bytes.byteLength} bytes, expected ` +
          `${expected} (${rows} × ${width} ${what} × 4 bytes)`,
      );
    }
    return bytes;
  };
  const { count, dim, queryCount, gtWidth } = header;
  const base = await read(header.file, count, dim, "float32");
  const queries = await read(header.queriesFile, queryCount, dim, "float32");
  const gt = await read(header.gtFile, queryCount, gtWidth, "int32");
  const gtDist = await read(header.gtDistancesFile, queryCount, gtWidth, "float32");
  return makeDataset({
    name,
    dim,
    metric: header.metric,
    base: asFloat32(base),
    queries: asFloat32(queries),
    groundTruth: asInt32(gt),
    groundTruthDistances: asFloat32(gtDist),
    groundTruthWidth: gtWidth,
  });
}

function parseHeader(json: unknown, path: string): DatasetHeader {
  const fail = (what: string) => new TypeError(`Cannot read dataset header ${path}: ${what}`);
  const object = (value: unknown, key: string): Record<string, unknown> => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw fail(`"${key}" is not an object`);
    }
    return value as Record<string, unknown>;
  };
  const positiveInt = (obj: Record<string, unknown>, key: string): number => {
    const value = obj[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw fail(`"${key}" is ${JSON.stringify(value)}, expected a positive integer`);
    }
    return value;
  };
  const fileName = (obj: Record<string, unknown>, key: string): string => {
    const value = obj[key];
    if (typeof value !== "string" || value === "" || value.includes("/")) {
      throw fail(`"${key}" is ${JSON.stringify(value)}, expected a file name`);
    }
    return value;
  };
  const root = object(json, "header");
  if (root.metric !== "l2" && root.metric !== "cosine") {
    throw fail(`"metric" is ${JSON.stringify(root.metric)}, expected "l2" or "cosine"`);
  }
  if (root.dtype !== undefined && root.dtype !== "float32") {
    throw fail(`"dtype" is ${JSON.stringify(root.dtype)}, expected "float32"`);
  }
  const queries = object(root.queries, "queries");
  const gt = object(root.groundtruth, "groundtruth");
  return {
    count: positiveInt(root, "count"),
    dim: positiveInt(root, "dim"),
    metric: root.metric,
    file: fileName(root, "file"),
    queriesFile: fileName(queries, "file"),
    queryCount: positiveInt(queries, "count"),
    gtFile: fileName(gt, "file"),
    gtDistancesFile: fileName(gt, "distances_file"),
    gtWidth: positiveInt(gt, "k"),
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function alignedBuffer(bytes: Uint8Array): ArrayBuffer {
  if (!LITTLE_ENDIAN) {
    throw new RangeError("Cannot read dataset: this reader supports little-endian hosts only");
  }
  // Deno.readFile returns a fresh buffer; copy only if it is a view at an odd offset.
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    return bytes.buffer as ArrayBuffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}

function asFloat32(bytes: Uint8Array): Float32Array {
  return new Float32Array(alignedBuffer(bytes));
}

function asInt32(bytes: Uint8Array): Int32Array {
  return new Int32Array(alignedBuffer(bytes));
}

function baseName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? path : path.slice(slash + 1);
}

function dirName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/**
 * Distance in the ground-truth convention of the shipped sets, accumulated in float64:
 * Euclidean distance (square root of squared L2) for `l2`, `1 − cos` for `cosine`.
 *
 * @param metric The data set's metric.
 * @param a A vector.
 * @param b A vector of the same length.
 * @returns The distance (smaller is closer).
 * @example
 * ```ts
 * import { datasetDistance } from "./dataset.ts";
 * const d = datasetDistance("l2", new Float32Array([0, 0]), new Float32Array([3, 4]));
 * if (d !== 5) throw new Error("expected 5");
 * ```
 */
export function datasetDistance(metric: DatasetMetric, a: Float32Array, b: Float32Array): number {
  if (metric === "l2") {
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      const diff = a[i]! - b[i]!;
      sum += diff * diff;
    }
    return Math.sqrt(sum);
  }
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  const norms = Math.sqrt(normA) * Math.sqrt(normB);
  return norms === 0 ? 1 : 1 - dot / norms;
}

/**
 * True when `distance` ties with `reference` within {@linkcode TIE_RELATIVE_TOLERANCE}
 * (relative, floored by {@linkcode TIE_ABSOLUTE_TOLERANCE}) or is smaller than it.
 *
 * @param distance A candidate's distance.
 * @param reference The k-th exact distance.
 * @returns Whether the candidate is as close as the k-th exact neighbour.
 * @example
 * ```ts
 * import { withinTie } from "./dataset.ts";
 * if (!withinTie(100.0005, 100) || withinTie(100.01, 100)) throw new Error("bad tolerance");
 * ```
 */
export function withinTie(distance: number, reference: number): boolean {
  const tolerance = Math.max(TIE_RELATIVE_TOLERANCE * Math.abs(reference), TIE_ABSOLUTE_TOLERANCE);
  return distance <= reference + tolerance;
}

/**
 * Tie-aware recall of one result list against an exact top-k: a returned id counts when it is in
 * the exact top-k, or when its own distance (from `distanceOf`) ties with the k-th exact distance
 * (see {@linkcode withinTie}). Only the first k results count, and each id counts once.
 *
 * @param k Cut-off.
 * @param resultIds Ids returned by the index, best first.
 * @param truthIds Exact neighbour ids, nearest first (at least k).
 * @param kthDistance The exact distance of the k-th neighbour.
 * @param distanceOf Exact distance of the query to a base id, same convention as `kthDistance`.
 * @returns Fraction of the k slots filled correctly, in [0, 1].
 * @throws {RangeError} When fewer than k exact neighbours are given.
 * @example
 * ```ts
 * import { recallAgainst } from "./dataset.ts";
 * const r = recallAgainst(2, [0, 7], [0, 1], 1.0, (id) => (id === 7 ? 1.0 : 5));
 * if (r !== 1) throw new Error("a tie with the k-th distance counts as correct");
 * ```
 */
export function recallAgainst(
  k: number,
  resultIds: readonly number[],
  truthIds: ArrayLike<number>,
  kthDistance: number,
  distanceOf: (id: number) => number,
): number {
  if (!Number.isInteger(k) || k < 1 || truthIds.length < k) {
    throw new RangeError(`Cannot compute recall@${k}: ${truthIds.length} exact neighbours given`);
  }
  const truth = new Set<number>();
  for (let i = 0; i < k; i++) truth.add(truthIds[i]!);
  const seen = new Set<number>();
  let correct = 0;
  for (const id of resultIds.slice(0, k)) {
    if (seen.has(id)) continue;
    seen.add(id);
    if (truth.has(id) || withinTie(distanceOf(id), kthDistance)) correct++;
  }
  return correct / k;
}

/**
 * Tie-aware recall@k of one query's results against the data set's ground truth.
 *
 * @param k Cut-off, at most {@linkcode Dataset.groundTruthWidth}.
 * @param resultIds Base row ids returned by the index, best first.
 * @param queryIndex Which query.
 * @param dataset The data set.
 * @returns Fraction in [0, 1].
 * @throws {RangeError} When k exceeds the ground-truth width, the query index is out of range,
 * or a result id is not a base row.
 * @example
 * ```ts
 * import { makeDataset, recallAt } from "./dataset.ts";
 * const ds = makeDataset({
 *   name: "tiny", dim: 1, metric: "l2",
 *   base: new Float32Array([0, 1, 1, 5]), queries: new Float32Array([0]),
 *   groundTruth: new Int32Array([0, 1, 2, 3]),
 *   groundTruthDistances: new Float32Array([0, 1, 1, 5]), groundTruthWidth: 4,
 * });
 * if (recallAt(2, [0, 2], 0, ds) !== 1) throw new Error("row 2 ties with row 1");
 * ```
 */
export function recallAt(
  k: number,
  resultIds: readonly number[],
  queryIndex: number,
  dataset: Dataset,
): number {
  if (k > dataset.groundTruthWidth) {
    throw new RangeError(
      `Cannot compute recall@${k}: ground truth holds ${dataset.groundTruthWidth} per query`,
    );
  }
  const query = dataset.query(queryIndex);
  const row = queryIndex * dataset.groundTruthWidth;
  const truthIds = dataset.groundTruth.subarray(row, row + k);
  const kthDistance = dataset.groundTruthDistances[row + k - 1]!;
  return recallAgainst(k, resultIds, truthIds, kthDistance, (id) => {
    return datasetDistance(dataset.metric, query, dataset.vector(id));
  });
}

/**
 * Mean tie-aware recall@k over queries `0..results.length-1`.
 *
 * @param k Cut-off.
 * @param results One result id list per query, in query order.
 * @param dataset The data set.
 * @returns Mean recall in [0, 1].
 * @throws {RangeError} When there are more result lists than queries, or none.
 * @example
 * ```ts ignore
 * const recall = meanRecallAt(10, resultsPerQuery, dataset);
 * ```
 */
export function meanRecallAt(
  k: number,
  results: readonly (readonly number[])[],
  dataset: Dataset,
): number {
  if (results.length === 0 || results.length > dataset.queryCount) {
    throw new RangeError(
      `Cannot compute mean recall: ${results.length} result lists for ${dataset.queryCount} queries`,
    );
  }
  let sum = 0;
  results.forEach((ids, queryIndex) => sum += recallAt(k, ids, queryIndex, dataset));
  return sum / results.length;
}

/** Exact nearest neighbours of one query, nearest first (ties broken by smaller id). */
export interface ExactNeighbours {
  /** Base row ids. */
  ids: Int32Array;
  /** Their distances in the {@linkcode datasetDistance} convention. */
  distances: Float32Array;
}

/**
 * Exact top-k by brute force over all base rows, or only over `candidates` (e.g. the allowed ids
 * of a filtered search). Plain TypeScript, float64 accumulation.
 *
 * @param dataset The data set whose base is scanned.
 * @param query The query vector.
 * @param k How many neighbours; fewer come back when fewer candidates exist.
 * @param candidates Base row ids to consider; all rows when omitted.
 * @returns The exact neighbours.
 * @example
 * ```ts
 * import { bruteForceTopK, makeDataset } from "./dataset.ts";
 * const ds = makeDataset({
 *   name: "tiny", dim: 1, metric: "l2", base: new Float32Array([5, 1, 3]),
 *   queries: new Float32Array(0), groundTruth: new Int32Array(0),
 *   groundTruthDistances: new Float32Array(0), groundTruthWidth: 0,
 * });
 * const top = bruteForceTopK(ds, new Float32Array([0]), 2, [0, 2]);
 * if (top.ids[0] !== 2 || top.ids[1] !== 0) throw new Error("wrong order");
 * ```
 */
export function bruteForceTopK(
  dataset: Dataset,
  query: Float32Array,
  k: number,
  candidates?: ArrayLike<number>,
): ExactNeighbours {
  const total = candidates === undefined ? dataset.count : candidates.length;
  const size = Math.min(k, total);
  const ids = new Int32Array(size);
  const distances = new Float64Array(size);
  let filled = 0;
  for (let c = 0; c < total; c++) {
    const id = candidates === undefined ? c : candidates[c]!;
    const distance = datasetDistance(dataset.metric, query, dataset.vector(id));
    if (filled === size) {
      const worst = distances[size - 1]!;
      if (distance > worst || (distance === worst && id > ids[size - 1]!)) continue;
    } else {
      filled++;
    }
    let slot = filled - 1;
    while (
      slot > 0 &&
      (distances[slot - 1]! > distance || (distances[slot - 1] === distance && ids[slot - 1]! > id))
    ) {
      distances[slot] = distances[slot - 1]!;
      ids[slot] = ids[slot - 1]!;
      slot--;
    }
    distances[slot] = distance;
    ids[slot] = id;
  }
  return { ids, distances: Float32Array.from(distances) };
}

/**
 * The data set cut to its first `limit` base vectors, with the ground truth recomputed by brute
 * force for every query (the shipped one refers to the whole base).
 *
 * @param dataset The full data set.
 * @param limit How many base vectors to keep, 1..count.
 * @param width Neighbours to keep per query; defaults to min(shipped width, limit).
 * @returns A new data set sharing the vector memory of `dataset`.
 * @throws {RangeError} When `limit` is out of range.
 * @example
 * ```ts ignore
 * const small = limitDataset(await readDataset(sharedDataPath("glove-100-tail")), 50_000);
 * ```
 */
export function limitDataset(
  dataset: Dataset,
  limit: number,
  width = Math.min(dataset.groundTruthWidth, limit),
): Dataset {
  if (!Number.isInteger(limit) || limit < 1 || limit > dataset.count) {
    throw new RangeError(
      `Cannot limit dataset "${dataset.name}": ${limit} not in 1..${dataset.count}`,
    );
  }
  const cut = makeDataset({
    ...dataset,
    base: dataset.base.subarray(0, limit * dataset.dim),
    groundTruth: new Int32Array(0),
    groundTruthDistances: new Float32Array(0),
    groundTruthWidth: 0,
  });
  const groundTruth = new Int32Array(dataset.queryCount * width);
  const groundTruthDistances = new Float32Array(dataset.queryCount * width);
  for (let q = 0; q < dataset.queryCount; q++) {
    const exact = bruteForceTopK(cut, dataset.query(q), width);
    groundTruth.set(exact.ids, q * width);
    groundTruthDistances.set(exact.distances, q * width);
  }
  return makeDataset({ ...cut, groundTruth, groundTruthDistances, groundTruthWidth: width });
}

/**
 * Path of a shared data set's header, `../shared/data/<name>/<name>.json` relative to the repo
 * root (the `shared` directory is the repository's sibling).
 *
 * @param name Set name, e.g. `siftsmall`.
 * @returns An absolute file path (which may not exist).
 * @example
 * ```ts
 * import { sharedDataPath } from "./dataset.ts";
 * if (!sharedDataPath("siftsmall").endsWith("/shared/data/siftsmall/siftsmall.json")) {
 *   throw new Error("unexpected path");
 * }
 * ```
 */
export function sharedDataPath(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new TypeError(`Cannot resolve dataset "${name}": not a plain set name`);
  }
  return fileURLToPath(new URL(`../../../shared/data/${name}/${name}.json`, import.meta.url));
}

/**
 * Whether a shared data set's header exists; when it does not, prints why a test is skipped.
 * Use as `Deno.test({ ignore: !sharedDataAvailable("siftsmall"), ... })`.
 *
 * @param name Set name.
 * @returns True when `sharedDataPath(name)` exists.
 * @example
 * ```ts
 * import { sharedDataAvailable } from "./dataset.ts";
 * if (sharedDataAvailable("no-such-set")) throw new Error("should be missing");
 * ```
 */
export function sharedDataAvailable(name: string): boolean {
  const path = sharedDataPath(name);
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.warn(
      `Skipping tests on dataset "${name}": ${path} not found (see shared/data/README.md)`,
    );
    return false;
  }
}
