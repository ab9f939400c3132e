/**
 * Background uploads: requests are accepted at once and run in parallel, at
 * most `concurrency` at a time, through the (resilient) store. A request that
 * still fails after its retries, or that an open breaker refuses, goes to the
 * dead-letter queue; a caller's promise never rejects, so S3 trouble can never
 * fail a write. A full queue dead-letters new requests instead of growing.
 *
 * Requests for the same key are not ordered against each other; snapshot keys
 * are written once, so this does not arise in normal operation.
 *
 * @module
 */

import type { Logger } from "../../obs/logger.ts";
import type {
  DeadLetterFailure,
  DeadLetterQueue,
  DeadLetterRetryReport,
} from "./dead_letter_queue.ts";
import type { ObjectKey } from "./object_key.ts";
import type { ObjectStore } from "./object_store.ts";
import { ObjectStoreError } from "./object_store_error.ts";
import { attemptsMade } from "./resilient_object_store.ts";

/** A write to perform in the background. */
export type UploadRequest =
  | { readonly operation: "put"; readonly key: ObjectKey; readonly bytes: Uint8Array }
  | { readonly operation: "put_file"; readonly key: ObjectKey; readonly path: string }
  | { readonly operation: "delete"; readonly key: ObjectKey };

/** How a request ended. */
export type UploadOutcome =
  | { readonly status: "uploaded"; readonly key: ObjectKey }
  | { readonly status: "dead_lettered"; readonly key: ObjectKey; readonly error: string };

/** Options of the queue. */
export interface UploadQueueOptions {
  /** Requests in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Most requests waiting; beyond it new ones are dead-lettered at once. Default 10,000. */
  readonly pendingCountMax?: number;
  /** Logs dead-lettered requests. */
  readonly logger?: Logger;
}

/** Defaults; candidates for `limits.ts`. */
export const DEFAULT_UPLOAD_QUEUE_OPTIONS = Object.freeze({
  concurrency: 8,
  pendingCountMax: 10_000,
});

interface Job {
  readonly request: UploadRequest;
  readonly resolve: (outcome: UploadOutcome) => void;
}

/**
 * The upload queue.
 *
 * @example
 * ```ts ignore
 * const queue = new UploadQueue(resilientStore, dlq, { concurrency: 8 });
 * void queue.enqueue({ operation: "put_file", key, path }); // never rejects
 * const outcomes = await queue.enqueueBatch(files);          // or wait for a batch
 * const report = await queue.retryDeadLetters();
 * ```
 */
export class UploadQueue {
  readonly #store: ObjectStore;
  readonly #dlq: DeadLetterQueue;
  readonly #concurrency: number;
  readonly #pendingCountMax: number;
  readonly #logger: Logger | undefined;
  readonly #pending: Job[] = [];
  #inFlightCount = 0;
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  /**
   * @param store The store to write to; pass a {@linkcode ResilientObjectStore}.
   * @param dlq Where failures go.
   * @param options Concurrency and bounds.
   * @throws RangeError when an option is out of range.
   */
  constructor(store: ObjectStore, dlq: DeadLetterQueue, options: UploadQueueOptions = {}) {
    this.#store = store;
    this.#dlq = dlq;
    this.#concurrency = options.concurrency ?? DEFAULT_UPLOAD_QUEUE_OPTIONS.concurrency;
    this.#pendingCountMax = options.pendingCountMax ??
      DEFAULT_UPLOAD_QUEUE_OPTIONS.pendingCountMax;
    this.#logger = options.logger;
    for (const name of ["concurrency", "pendingCountMax"] as const) {
      const value = name === "concurrency" ? this.#concurrency : this.#pendingCountMax;
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`Cannot use upload queue ${name} ${value}: expected an integer ≥ 1`);
      }
    }
  }

  /** Requests waiting to start. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Requests running now. */
  get inFlightCount(): number {
    return this.#inFlightCount;
  }

  /**
   * Accepts a request; it runs in the background.
   *
   * @param request The write.
   * @returns Its outcome once done; never rejects.
   */
  enqueue(request: UploadRequest): Promise<UploadOutcome> {
    if (this.#closed || this.#pending.length >= this.#pendingCountMax) {
      const reason = this.#closed ? "the upload queue is closed" : "the upload queue is full";
      return this.#deadLetter(request, new ObjectStoreError(reason, { kind: "throttled" }), 0);
    }
    return new Promise((resolve) => {
      this.#pending.push({ request, resolve });
      this.#pump();
    });
  }

  /**
   * Accepts several requests; they run in parallel up to the concurrency limit.
   *
   * @param requests The writes.
   * @returns Their outcomes, in order; never rejects.
   */
  enqueueBatch(requests: readonly UploadRequest[]): Promise<UploadOutcome[]> {
    return Promise.all(requests.map((request) => this.enqueue(request)));
  }

  /** Resolves when nothing is pending or in flight. */
  drain(): Promise<void> {
    if (this.#pending.length === 0 && this.#inFlightCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Replays the dead-letter queue through the store.
   *
   * @returns How many succeeded, failed and remain.
   */
  retryDeadLetters(): Promise<DeadLetterRetryReport> {
    return this.#dlq.retryAll(this.#store);
  }

  /** Stops accepting requests (new ones are dead-lettered) and waits for those accepted. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
  }

  #pump(): void {
    while (this.#inFlightCount < this.#concurrency && this.#pending.length > 0) {
      const job = this.#pending.shift()!;
      this.#inFlightCount++;
      this.#run(job.request).then(job.resolve).finally(() => {
        this.#inFlightCount--;
        this.#pump();
        if (this.#pending.length === 0 && this.#inFlightCount === 0) {
          const waiters = this.#idleWaiters;
          this.#idleWaiters = [];
          for (const wake of waiters) wake();
        }
      });
    }
  }

  async #run(request: UploadRequest): Promise<UploadOutcome> {
    try {
      switch (request.operation) {
        case "put":
          await this.#store.put(request.key, request.bytes);
          break;
        case "put_file":
          await this.#store.putFile(request.key, request.path);
          break;
        case "delete":
          await this.#store.delete(request.key);
          break;
      }
    } catch (error) {
      return this.#deadLetter(request, error, attemptsMade(error));
    }
    this.#dlq.removeKey(request.key); // a success supersedes an older failure of the key
    return { status: "uploaded", key: request.key };
  }

  async #deadLetter(
    request: UploadRequest,
    error: unknown,
    attempts: number,
  ): Promise<UploadOutcome> {
    const message = error instanceof Error ? error.message : String(error);
    try {
      this.#dlq.record(await this.#failure(request, error, attempts));
      this.#logger?.warn("object store write dead-lettered", {
        operation: request.operation,
        key: request.key,
        attempts,
        error: message,
      });
    } catch (dlqError) {
      this.#logger?.error("object store write lost: cannot dead-letter it", {
        operation: request.operation,
        key: request.key,
        error: message,
        dlq_error: dlqError instanceof Error ? dlqError.message : String(dlqError),
      });
    }
    return { status: "dead_lettered", key: request.key, error: message };
  }

  async #failure(
    request: UploadRequest,
    error: unknown,
    attempts: number,
  ): Promise<DeadLetterFailure> {
    const { key } = request;
    switch (request.operation) {
      case "put":
        return { operation: "put", key, bytes: request.bytes, attempts, error };
      case "put_file": {
        const sizeBytes = await Deno.stat(request.path).then((info) => info.size, () => 0);
        return { operation: "put_file", key, localPath: request.path, sizeBytes, attempts, error };
      }
      case "delete":
        return { operation: "delete", key, attempts, error };
    }
  }
}
