/**
 * The S3 implementation of {@linkcode ObjectStore} over `@aws-sdk/client-s3`,
 * with multipart uploads through `@aws-sdk/lib-storage` above a size threshold.
 *
 * Client settings and why (see PLATFORM-NOTES.md): `forcePathStyle` for MinIO
 * and s3rver; checksums only `WHEN_REQUIRED`, since the SDK's default sends
 * streamed bodies aws-chunked, which s3rver stores framing and all; bodies are
 * `Uint8Array`s or Node streams, never Web streams (they fail under Deno);
 * `maxAttempts: 1`, because retries belong to our own retry layer; ETags are
 * never parsed. Every call has a time limit (`operationTimeoutMs`, or
 * `transferTimeoutMs` for file transfers) and a socket idle limit, so a stalled
 * connection becomes a retryable timeout rather than a hang.
 *
 * @module
 */

import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3Config } from "../../config/config_schema.ts";
import { CapacityError } from "../../errors.ts";
import { toObjectStoreError } from "./_s3_errors.ts";
import { type ObjectKey, type ObjectKeyPrefix, parseObjectKey, toObjectKey } from "./object_key.ts";
import type { ObjectHead, ObjectListing, ObjectStore } from "./object_store.ts";
import { ObjectStoreError } from "./object_store_error.ts";

const MiB = 1024 * 1024;

/** Tuning of the S3 store; every field has a default. */
export interface S3ObjectStoreOptions {
  /** Files at least this large go up in parts. Default 16 MiB; at least the part size. */
  readonly multipartThresholdBytes?: number;
  /** Size of each multipart part. Default 8 MiB; S3 requires ≥ 5 MiB. */
  readonly partSizeBytes?: number;
  /** Parts of one upload sent in parallel. Default 4. */
  readonly multipartConcurrency?: number;
  /** Time limit of one small request (put, get, head, delete, list page). Default 30 s. */
  readonly operationTimeoutMs?: number;
  /** Time limit of one file transfer (putFile, getToFile). Default 10 min. */
  readonly transferTimeoutMs?: number;
  /** TCP connect limit. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** A socket silent this long fails the request. Default 30 s. */
  readonly socketIdleTimeoutMs?: number;
  /** Most keys one `list` returns before failing with CapacityError. Default 100,000. */
  readonly listKeysMax?: number;
}

/** Defaults of {@linkcode S3ObjectStoreOptions}; candidates for `limits.ts`. */
export const DEFAULT_S3_OBJECT_STORE_OPTIONS: Required<S3ObjectStoreOptions> = Object.freeze({
  multipartThresholdBytes: 16 * MiB,
  partSizeBytes: 8 * MiB,
  multipartConcurrency: 4,
  operationTimeoutMs: 30_000,
  transferTimeoutMs: 600_000,
  connectTimeoutMs: 5_000,
  socketIdleTimeoutMs: 30_000,
  listKeysMax: 100_000,
});

/** Where and how to reach S3: the `[s3]` configuration section. */
export type S3Location = Pick<
  S3Config,
  "endpoint" | "region" | "bucket" | "prefix" | "accessKeyId" | "secretAccessKey" | "forcePathStyle"
>;

function checkOptions(options: Required<S3ObjectStoreOptions>): void {
  if (!(options.partSizeBytes >= 5 * MiB)) {
    throw new RangeError(`Cannot use partSizeBytes ${options.partSizeBytes}: S3 needs ≥ 5 MiB`);
  }
  if (!(options.multipartThresholdBytes >= options.partSizeBytes)) {
    throw new RangeError(
      `Cannot use multipartThresholdBytes ${options.multipartThresholdBytes}: ` +
        `expected ≥ partSizeBytes ${options.partSizeBytes}`,
    );
  }
  for (const name of ["multipartConcurrency", "listKeysMax"] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) {
      throw new RangeError(`Cannot use ${name} ${options[name]}: expected an integer ≥ 1`);
    }
  }
}

/**
 * Runs `run` with an abort signal that fires after `timeoutMs`; a run that
 * ignores the signal is abandoned at the deadline with a timeout error.
 */
async function withDeadline<T>(
  timeoutMs: number,
  action: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ObjectStoreError(`Cannot ${action}: timed out after ${timeoutMs} ms`, {
        kind: "timeout",
      });
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([run(controller.signal), deadline]);
  } catch (error) {
    throw toObjectStoreError(controller.signal.aborted ? controller.signal.reason : error, action);
  } finally {
    clearTimeout(timer);
  }
}

async function writeFully(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) written += await file.write(chunk.subarray(written));
}

/**
 * An object store on S3 or an S3-compatible server (MinIO, s3rver).
 *
 * @example
 * ```ts ignore
 * const store = new S3ObjectStore(config.s3!);
 * await store.put(snapshotObjectKey(collectionId, snapshotId, "manifest.json"), bytes);
 * ```
 */
export class S3ObjectStore implements ObjectStore {
  /** The SDK client; exposed for tests and benchmarks. */
  readonly client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #options: Required<S3ObjectStoreOptions>;

  /**
   * @param location Endpoint, region, bucket, prefix, credentials, path style.
   * @param options Sizes and time limits.
   * @throws RangeError when an option is out of range; TypeError when only one credential is set.
   */
  constructor(location: S3Location, options: S3ObjectStoreOptions = {}) {
    this.#options = { ...DEFAULT_S3_OBJECT_STORE_OPTIONS, ...options };
    checkOptions(this.#options);
    const { accessKeyId, secretAccessKey } = location;
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw new TypeError(
        "Cannot configure S3 credentials: set access_key_id and secret_access_key together",
      );
    }
    const config: S3ClientConfig = {
      region: location.region,
      forcePathStyle: location.forcePathStyle,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: this.#options.connectTimeoutMs,
        requestTimeout: this.#options.socketIdleTimeoutMs,
      },
      ...(location.endpoint === undefined ? {} : { endpoint: location.endpoint }),
      ...(accessKeyId === undefined || secretAccessKey === undefined
        ? {}
        : { credentials: { accessKeyId, secretAccessKey } }),
    };
    this.client = new S3Client(config);
    this.#bucket = location.bucket;
    this.#prefix = location.prefix.replace(/^\/+|\/+$/g, "");
  }

  /** The full S3 key of a store key. */
  fullKey(key: ObjectKey | ObjectKeyPrefix): string {
    return this.#prefix === "" ? key : `${this.#prefix}/${key}`;
  }

  async put(key: ObjectKey, bytes: Uint8Array): Promise<void> {
    const action = `put object "${key}"`;
    await withDeadline(this.#options.operationTimeoutMs, action, (abortSignal) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.fullKey(key),
          Body: bytes,
          ContentLength: bytes.length,
        }),
        { abortSignal },
      ));
  }

  async putFile(key: ObjectKey, path: string): Promise<void> {
    const action = `put file "${path}" as object "${key}"`;
    const { size } = await Deno.stat(path).catch((error) => {
      throw new ObjectStoreError(`Cannot ${action}: cannot stat the file`, {
        kind: "client",
        cause: error,
      });
    });
    if (size < this.#options.multipartThresholdBytes) {
      await this.put(key, await Deno.readFile(path));
      return;
    }
    await withDeadline(this.#options.transferTimeoutMs, action, async (signal) => {
      const body = createReadStream(path);
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.#bucket, Key: this.fullKey(key), Body: body },
        partSize: this.#options.partSizeBytes,
        queueSize: this.#options.multipartConcurrency,
        leavePartsOnError: false,
      });
      const onAbort = () => void upload.abort().catch(() => {});
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await upload.done();
      } finally {
        signal.removeEventListener("abort", onAbort);
        body.destroy();
      }
    });
  }

  async get(key: ObjectKey): Promise<Uint8Array> {
    const action = `get object "${key}"`;
    return await withDeadline(this.#options.operationTimeoutMs, action, async (abortSignal) => {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.fullKey(key) }),
        { abortSignal },
      );
      if (response.Body === undefined) throw new Error("the response has no body");
      const bytes = await response.Body.transformToByteArray();
      this.#checkLength(action, bytes.length, response.ContentLength);
      return bytes;
    });
  }

  async getToFile(key: ObjectKey, path: string): Promise<void> {
    const action = `get object "${key}" to file "${path}"`;
    const partPath = `${path}.part`;
    try {
      await withDeadline(this.#options.transferTimeoutMs, action, async (abortSignal) => {
        const response = await this.client.send(
          new GetObjectCommand({ Bucket: this.#bucket, Key: this.fullKey(key) }),
          { abortSignal },
        );
        const body = response.Body as Readable | undefined;
        if (body === undefined) throw new Error("the response has no body");
        abortSignal.addEventListener("abort", () => body.destroy(), { once: true });
        const file = await Deno.open(partPath, { write: true, create: true, truncate: true });
        let sizeBytes = 0;
        try {
          for await (const chunk of body) {
            const bytes = chunk instanceof Uint8Array ? chunk : new TextEncoder().encode(chunk);
            await writeFully(file, bytes);
            sizeBytes += bytes.length;
          }
          await file.sync();
        } finally {
          file.close();
        }
        this.#checkLength(action, sizeBytes, response.ContentLength);
      });
      await Deno.rename(partPath, path);
    } catch (error) {
      await Deno.remove(partPath).catch(() => {});
      throw error;
    }
  }

  async head(key: ObjectKey): Promise<ObjectHead | undefined> {
    const action = `head object "${key}"`;
    try {
      return await withDeadline(this.#options.operationTimeoutMs, action, async (abortSignal) => {
        const response = await this.client.send(
          new HeadObjectCommand({ Bucket: this.#bucket, Key: this.fullKey(key) }),
          { abortSignal },
        );
        return { sizeBytes: response.ContentLength ?? 0 };
      });
    } catch (error) {
      if (error instanceof Error && error.name === "NotFoundError") return undefined;
      throw error;
    }
  }

  async delete(key: ObjectKey): Promise<void> {
    const action = `delete object "${key}"`;
    try {
      await withDeadline(
        this.#options.operationTimeoutMs,
        action,
        (abortSignal) =>
          this.client.send(
            new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.fullKey(key) }),
            { abortSignal },
          ),
      );
    } catch (error) {
      if (error instanceof Error && error.name === "NotFoundError") return;
      throw error;
    }
  }

  async list(prefix: ObjectKeyPrefix): Promise<ObjectListing[]> {
    const action = `list objects under "${prefix}"`;
    const fullPrefix = this.fullKey(prefix);
    const strip = fullPrefix.length - prefix.length;
    const listings: ObjectListing[] = [];
    let token: string | undefined;
    do {
      const page = await withDeadline(
        this.#options.operationTimeoutMs,
        action,
        (abortSignal) =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.#bucket,
              Prefix: fullPrefix,
              ...(token === undefined ? {} : { ContinuationToken: token }),
            }),
            { abortSignal },
          ),
      );
      for (const object of page.Contents ?? []) {
        const relative = object.Key?.slice(strip);
        if (relative === undefined || parseObjectKey(relative) === undefined) continue;
        listings.push({ key: toObjectKey(relative), sizeBytes: object.Size ?? 0 });
      }
      if (listings.length > this.#options.listKeysMax) {
        throw new CapacityError(
          `Cannot ${action}: more than ${this.#options.listKeysMax} keys`,
          { code: "list_too_large" },
        );
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return listings.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Releases the client's sockets. */
  close(): void {
    this.client.destroy();
  }

  #checkLength(action: string, sizeBytes: number, expectedBytes: number | undefined): void {
    if (expectedBytes !== undefined && sizeBytes !== expectedBytes) {
      throw new ObjectStoreError(
        `Cannot ${action}: received ${sizeBytes} bytes, expected ${expectedBytes}`,
        { kind: "network" },
      );
    }
  }
}
