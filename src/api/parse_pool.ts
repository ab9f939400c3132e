/**
 * A small pool of Workers that parse and validate large upsert bodies off the
 * request thread. A 1,000-point 128-d batch is ≈ 2.5 MB of JSON: decoding,
 * `JSON.parse` and validating it take ≈ 12 ms of CPU, which on the request
 * thread would stall every search waiting behind it. The body's bytes are
 * transferred to a worker, which runs the same {@linkcode parseUpsertBytes}
 * as the request thread and transfers back one packed `Float32Array` (or an
 * error that is revived as the same class, code and message). Bodies up to
 * `inlineBytesMax` are parsed inline: for them the thread hop costs more
 * than it saves.
 *
 * @module
 */

import { CapacityError } from "../errors.ts";
import {
  fromWireError,
  type ParsedUpsert,
  parseUpsertBytes,
  type WireError,
} from "./upsert_batch.ts";

/** A message to a parse worker. */
export interface ParseJob {
  readonly jobId: number;
  /** The body's bytes, transferred. */
  readonly bytes: ArrayBuffer;
  readonly maxBatchPoints: number;
  /** The collection's dimension; undefined when it could not be looked up. */
  readonly dimension: number | undefined;
}

/** A parse worker's answer. */
export type ParseReply =
  | { readonly jobId: number; readonly ok: true; readonly batch: ParsedUpsert | undefined }
  | { readonly jobId: number; readonly ok: false; readonly error: WireError };

/** Options of a {@linkcode ParsePool}. */
export interface ParsePoolOptions {
  /** Workers to start, ≥ 1. */
  readonly workers: number;
  /** Bodies of at most this many bytes are parsed on the calling thread; default 64 KiB. */
  readonly inlineBytesMax?: number;
  /** Jobs that may wait for a worker; beyond, requests get 503 `parse_queue_full`. Default 256. */
  readonly queuedJobsMax?: number;
}

interface Job {
  readonly message: ParseJob;
  resolve(batch: ParsedUpsert | undefined): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
}

const WORKER_URL = new URL("./parse_worker.ts", import.meta.url);

/**
 * Worker pool for upsert bodies; see the module documentation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ParsePool } from "./parse_pool.ts";
 * const pool = new ParsePool({ workers: 1, inlineBytesMax: 0 });
 * try {
 *   const body = () => new TextEncoder().encode('{"id":"a","vector":[1,2]}'); // transferred: one each
 *   const batch = await pool.parseUpsert(body(), 10, 2);
 *   assert.deepEqual(batch?.vectors, new Float32Array([1, 2]));
 *   await assert.rejects(pool.parseUpsert(body(), 10, 3), RangeError);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export class ParsePool {
  readonly #slots: Slot[];
  readonly #queue: Job[] = [];
  readonly #inlineBytesMax: number;
  readonly #queuedJobsMax: number;
  #nextJobId = 1;
  #closed = false;

  /**
   * Starts the workers.
   *
   * @param options worker count, inline threshold, queue bound
   * @throws {RangeError} when `workers` is not a positive integer
   */
  constructor(options: ParsePoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`Cannot start parse pool: workers is ${options.workers}, expected ≥ 1`);
    }
    this.#inlineBytesMax = options.inlineBytesMax ?? 64 * 1024;
    this.#queuedJobsMax = options.queuedJobsMax ?? 256;
    this.#slots = Array.from({ length: options.workers }, () => this.#newSlot());
  }

  /** Workers in the pool. */
  get size(): number {
    return this.#slots.length;
  }

  /** Bodies being parsed by a worker or waiting for one. */
  get inFlightCount(): number {
    return this.#queue.length + this.#slots.filter((slot) => slot.job !== undefined).length;
  }

  /**
   * Parses and validates an upsert body: inline when small, else in a worker.
   * Large bodies' bytes are transferred: `bytes` is unusable afterwards.
   *
   * @param bytes The body (its buffer must hold nothing else).
   * @param maxBatchPoints The most points one request may carry.
   * @param dimension The collection's dimension, or undefined when unknown.
   * @returns As {@linkcode parseUpsertBytes}.
   * @throws As {@linkcode parseUpsertBytes}; {@linkcode CapacityError} 503 when the queue is full
   *   or the pool is closed.
   */
  parseUpsert(
    bytes: Uint8Array,
    maxBatchPoints: number,
    dimension: number | undefined,
  ): Promise<ParsedUpsert | undefined> {
    if (bytes.byteLength <= this.#inlineBytesMax) {
      try {
        return Promise.resolve(parseUpsertBytes(bytes, maxBatchPoints, dimension));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (this.#closed) return Promise.reject(shuttingDown());
    if (this.#queue.length >= this.#queuedJobsMax) {
      return Promise.reject(
        new CapacityError(
          `Cannot parse body: ${this.#queue.length} bodies already wait for a parse worker`,
          { code: "parse_queue_full" },
        ),
      );
    }
    const buffer = ownBuffer(bytes);
    const message: ParseJob = {
      jobId: this.#nextJobId++,
      bytes: buffer,
      maxBatchPoints,
      dimension,
    };
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
      this.#dispatch();
    });
  }

  /** Terminates the workers; jobs still queued or running fail with 503 `shutting_down`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = shuttingDown();
    for (const slot of this.#slots) {
      slot.worker.terminate();
      slot.job?.reject(error);
      slot.job = undefined;
    }
    for (const job of this.#queue.splice(0)) job.reject(error);
  }

  #newSlot(): Slot {
    const slot: Slot = { worker: startWorker(), job: undefined };
    this.#listen(slot);
    return slot;
  }

  #listen(slot: Slot): void {
    slot.worker.onmessage = (event: MessageEvent<ParseReply>) => {
      const job = slot.job;
      slot.job = undefined;
      if (job !== undefined && job.message.jobId === event.data.jobId) {
        const reply = event.data;
        if (reply.ok) job.resolve(reply.batch);
        else job.reject(fromWireError(reply.error));
      }
      this.#dispatch();
    };
    // A worker that dies (a bug, out of memory) fails its job with a 500 and is replaced.
    const failed = (event: Event) => {
      event.preventDefault();
      const job = slot.job;
      slot.job = undefined;
      slot.worker.terminate();
      job?.reject(new Error(`Cannot parse body: the parse worker failed: ${describe(event)}`));
      if (this.#closed) return;
      slot.worker = startWorker();
      this.#listen(slot);
      this.#dispatch();
    };
    slot.worker.onerror = failed;
    slot.worker.onmessageerror = failed;
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.job !== undefined) continue;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.postMessage(job.message, [job.message.bytes]);
    }
  }
}

/** The bytes in an ArrayBuffer of their own, copying only when the view does not span its buffer. */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer } = bytes;
  if (
    buffer instanceof ArrayBuffer && bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
  ) {
    return buffer;
  }
  return bytes.slice().buffer;
}

function startWorker(): Worker {
  return new Worker(WORKER_URL, { type: "module" });
}

function shuttingDown(): CapacityError {
  return new CapacityError("Cannot parse body: the server is shutting down", {
    code: "shutting_down",
  });
}

function describe(event: Event): string {
  return event instanceof ErrorEvent ? event.message : event.type;
}
