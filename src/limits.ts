/**
 * Every hard limit of AkiDB in one place, with the defaults that must stay
 * inside them. Names put the unit last (`metadataBytesMax`, `shutdownTimeoutMsMax`);
 * plain counts have no unit (`kMax`, `batchPointsMax`).
 *
 * The relationships between limits are checked by {@linkcode assertLimits},
 * which {@linkcode loadConfig} runs once at startup.
 *
 * @module
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** The limits before freezing; see {@linkcode LIMITS}. */
const limits = {
  /** Smallest vector dimension. */
  dimensionMin: 1,
  /** Largest vector dimension. */
  dimensionMax: 4096,

  /** Collection names: a letter or digit, then up to 63 letters, digits, `_` or `-`. */
  collectionNamePattern: Object.freeze(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/),
  /** Longest collection name, in characters (all ASCII, so also bytes). */
  collectionNameLengthMax: 64,

  /** Shortest string point id, in UTF-8 bytes. */
  pointIdBytesMin: 1,
  /** Longest string point id, in UTF-8 bytes. */
  pointIdBytesMax: 256,
  /** Smallest integer point id. */
  pointIdIntegerMin: 0,
  /** Largest integer point id: integers above it do not survive a JSON number round trip. */
  pointIdIntegerMax: Number.MAX_SAFE_INTEGER,
  /** Largest point metadata, as serialized UTF-8 JSON. */
  metadataBytesMax: 64 * KiB,

  /** Fewest results a search may ask for. */
  kMin: 1,
  /** Most results a search may ask for (see the justification above). */
  kMax: 1000,
  /** Smallest `efSearch` (HTTP `ef`, collection `ef_search`). */
  efSearchMin: 1,
  /** Largest `efSearch`. */
  efSearchMax: 4096,
  /** Default `efSearch` of a new collection. */
  efSearchDefault: 64,
  /** Smallest HNSW `m` (links per node above layer 0; layer 0 has `m0 = 2·m`). */
  mMin: 2,
  /** Largest HNSW `m`. */
  mMax: 64,
  /** Default HNSW `m` of a new collection. */
  mDefault: 16,
  /** Smallest HNSW `efConstruction`. */
  efConstructionMin: 1,
  /** Largest HNSW `efConstruction`. */
  efConstructionMax: 4096,
  /** Default HNSW `efConstruction` of a new collection. */
  efConstructionDefault: 200,

  /** Most conditions in one search filter (`must` and `must_not` together). */
  filterConditionsMax: 64,
  /** Most values in one `{"match":{"any":[…]}}` condition. */
  filterMatchAnyValuesMax: 1024,

  /** Fewest points a batch upsert may be configured to accept. */
  batchPointsMin: 1,
  /** Most points a batch upsert may be configured to accept. */
  batchPointsMax: 1_000_000,
  /** Default of `server.max_batch_points`. */
  batchPointsDefault: 10_000,
  /** Smallest configurable request body limit: must hold one largest point as JSON. */
  bodyBytesMin: 1 * MiB,
  /** Largest configurable request body limit. */
  bodyBytesMax: 1 * GiB,
  /** Default of `server.max_body_bytes`. */
  bodyBytesDefault: 32 * MiB,
  /** Bytes of one float32 written as JSON, worst case (`-1.1754943508222875e-38,`). */
  jsonFloatBytesMax: 25,

  /** Fixed bytes in front of every WAL record: u32 length, u32 crc32c, u64 lsn, u8 type. */
  walRecordHeaderBytes: 17,
  /** Smallest configurable WAL segment: must hold one largest single-point record. */
  walSegmentBytesMin: 1 * MiB,
  /** Largest configurable WAL segment. */
  walSegmentBytesMax: 1 * GiB,
  /** Default of `wal.segment_size_bytes`. */
  walSegmentBytesDefault: 64 * MiB,
  /** Smallest configurable bound on WAL bytes waiting for fsync. */
  walPendingBytesMin: 1 * MiB,
  /** Largest configurable bound on WAL bytes waiting for fsync. */
  walPendingBytesMax: 1 * GiB,
  /** Default of `wal.max_pending_bytes`. */
  walPendingBytesDefault: 64 * MiB,
  /** Shortest `interval:<ms>` WAL sync interval. */
  walSyncIntervalMsMin: 1,
  /** Longest `interval:<ms>` WAL sync interval. */
  walSyncIntervalMsMax: 60_000,

  /** Shortest graceful shutdown (0: stop at once). */
  shutdownTimeoutMsMin: 0,
  /** Longest graceful shutdown. */
  shutdownTimeoutMsMax: 600_000,
  /** Default of `server.shutdown_timeout_ms`. */
  shutdownTimeoutMsDefault: 10_000,

  /** Shortest API key, in characters: shorter keys are guessable. */
  apiKeyLengthMin: 16,
  /** Longest API key, in characters. */
  apiKeyLengthMax: 256,
  /** Most API keys in one configuration. */
  apiKeysMax: 1024,
};

/** The type of {@linkcode LIMITS}; {@linkcode assertLimits} accepts any value of it. */
export type Limits = Readonly<typeof limits>;

/**
 * The limits, frozen. Ranges are inclusive: a value `v` is valid when
 * `xMin <= v && v <= xMax`.
 *
 * `kMax` is 1000: a search response may carry metadata for every hit, so
 * 1000 × {@linkcode LIMITS.metadataBytesMax} (64 KiB) bounds one response at
 * 64 MiB; hosted vector stores draw the same line (Pinecone allows top_k 1000
 * when metadata is returned). Recall needs `efSearch >= k`, so `efSearchMax`
 * (4096) stays above `kMax`.
 *
 * @example
 * ```ts
 * import { LIMITS } from "./limits.ts";
 * const ok = LIMITS.collectionNamePattern.test("docs_v2") &&
 *   !LIMITS.collectionNamePattern.test("_hidden") &&
 *   LIMITS.efSearchMax >= LIMITS.kMax && Object.isFrozen(LIMITS);
 * if (!ok) throw new Error("LIMITS example failed");
 * ```
 */
export const LIMITS: Limits = Object.freeze(limits);

/**
 * Bytes of the largest single point: id, raw float32 vector and metadata.
 *
 * @param limits The limits to compute with.
 * @returns The payload size of the largest point in binary form.
 */
function pointBytesMax(limits: Limits): number {
  return limits.pointIdBytesMax + limits.dimensionMax * 4 + limits.metadataBytesMax;
}

/**
 * Checks the relationships between limits; a failure is a programmer error.
 * {@linkcode loadConfig} calls it once at startup.
 *
 * @param limits The limits to check; {@linkcode LIMITS} unless a test passes a variant.
 * @throws {Error} When a relationship does not hold (a programmer error); the message names it.
 *
 * @example
 * ```ts
 * import { assertLimits, LIMITS } from "./limits.ts";
 * assertLimits();
 * let message = "";
 * try {
 *   assertLimits({ ...LIMITS, efSearchMax: 999 });
 * } catch (error) {
 *   message = (error as Error).message;
 * }
 * if (message !== "Invalid limits: expected efSearchMax >= kMax: a search can reach any k") {
 *   throw new Error(`unexpected: ${message}`);
 * }
 * ```
 */
export function assertLimits(limits: Limits = LIMITS): void {
  const ranges: readonly (readonly [string, number, number, number])[] = [
    ["dimension", limits.dimensionMin, limits.dimensionMax, limits.dimensionMin],
    ["pointIdBytes", limits.pointIdBytesMin, limits.pointIdBytesMax, limits.pointIdBytesMin],
    ["k", limits.kMin, limits.kMax, limits.kMin],
    ["efSearch", limits.efSearchMin, limits.efSearchMax, limits.efSearchDefault],
    ["m", limits.mMin, limits.mMax, limits.mDefault],
    [
      "efConstruction",
      limits.efConstructionMin,
      limits.efConstructionMax,
      limits.efConstructionDefault,
    ],
    ["batchPoints", limits.batchPointsMin, limits.batchPointsMax, limits.batchPointsDefault],
    ["bodyBytes", limits.bodyBytesMin, limits.bodyBytesMax, limits.bodyBytesDefault],
    [
      "walSegmentBytes",
      limits.walSegmentBytesMin,
      limits.walSegmentBytesMax,
      limits.walSegmentBytesDefault,
    ],
    [
      "walPendingBytes",
      limits.walPendingBytesMin,
      limits.walPendingBytesMax,
      limits.walPendingBytesDefault,
    ],
    [
      "walSyncIntervalMs",
      limits.walSyncIntervalMsMin,
      limits.walSyncIntervalMsMax,
      limits.walSyncIntervalMsMin,
    ],
    [
      "shutdownTimeoutMs",
      limits.shutdownTimeoutMsMin,
      limits.shutdownTimeoutMsMax,
      limits.shutdownTimeoutMsDefault,
    ],
    ["apiKeyLength", limits.apiKeyLengthMin, limits.apiKeyLengthMax, limits.apiKeyLengthMin],
  ];
  for (const [name, min, max, defaultValue] of ranges) {
    check(Number.isSafeInteger(min) && Number.isSafeInteger(max), `${name} bounds are integers`);
    check(
      min <= defaultValue && defaultValue <= max,
      `${name}: ${min} <= ${defaultValue} <= ${max}`,
    );
  }
  check(limits.pointIdIntegerMin === 0, "integer point ids start at 0");
  check(limits.pointIdIntegerMax <= Number.MAX_SAFE_INTEGER, "integer point ids are safe integers");
  check(limits.efSearchMax >= limits.kMax, "efSearchMax >= kMax: a search can reach any k");
  check(limits.efConstructionMax >= limits.mMax * 2, "efConstructionMax >= m0 max (2·mMax)");
  check(
    limits.collectionNamePattern.test("a".repeat(limits.collectionNameLengthMax)) &&
      !limits.collectionNamePattern.test("a".repeat(limits.collectionNameLengthMax + 1)),
    "collectionNamePattern accepts exactly collectionNameLengthMax characters",
  );
  const pointJsonBytesMax = limits.dimensionMax * limits.jsonFloatBytesMax +
    limits.metadataBytesMax + limits.pointIdBytesMax * 6 + 4 * KiB;
  check(limits.bodyBytesMin >= pointJsonBytesMax, "bodyBytesMin holds one largest point as JSON");
  const recordBytesMax = limits.walRecordHeaderBytes + pointBytesMax(limits) + 4 * KiB;
  check(limits.walSegmentBytesMin >= recordBytesMax, "walSegmentBytesMin holds one largest record");
  check(limits.walPendingBytesMin >= recordBytesMax, "walPendingBytesMin holds one largest record");
  check(limits.filterConditionsMax >= 1 && limits.filterMatchAnyValuesMax >= 1, "filters bounded");
  check(limits.apiKeysMax >= 1, "apiKeysMax >= 1");
}

/**
 * Asserts one relationship between limits.
 *
 * @param condition Whether the relationship holds.
 * @param relationship The relationship, as written in the message.
 * @throws {Error} When `condition` is false.
 */
function check(condition: boolean, relationship: string): asserts condition {
  if (!condition) throw new Error(`Invalid limits: expected ${relationship}`);
}
