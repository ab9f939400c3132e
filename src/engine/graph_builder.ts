/**
 * Graph building on a second thread. One worker per process inserts batches
 * of vectors into HNSW segments whose memory it shares with the request
 * thread (see `SegmentKernel.attach`), so linking new points into a graph —
 * the most expensive work of ingest — never holds up a search or a write.
 *
 * The worker inserts each vector holding the segment's lock and publishes it
 * by the segment's count; the request thread keeps the ids, learns from that
 * count how far a batch has got, and searches the same memory meanwhile.
 * Batches run one after another in the order sent.
 *
 * @module
 */

import { CapacityError } from "../errors.ts";
import type { SegmentKernel, SegmentParams } from "../kernel/mod.ts";

/** A message to the graph worker. */
export type GraphJob =
  | {
    readonly kind: "attach";
    readonly key: number;
    readonly params: SegmentParams;
    readonly memory: WebAssembly.Memory;
  }
  | {
    readonly kind: "insert";
    readonly key: number;
    readonly batch: number;
    /** `count × dimension` floats, transferred. */
    readonly vectors: Float32Array;
    /** The vectors are stored vectors of a segment with the same metric: keep their bits. */
    readonly prepared: boolean;
  }
  | { readonly kind: "detach"; readonly key: number };

/** The worker's answer to an insert. */
export interface GraphReply {
  readonly batch: number;
  /** Vectors inserted, from the first (those after a failure were not). */
  readonly inserted: number;
  /** Why the batch stopped early. */
  readonly error?: { readonly message: string; readonly capacity: boolean };
}

const WORKER_URL = new URL("./graph_builder_worker.ts", import.meta.url);

interface PendingBatch {
  resolve(inserted: number): void;
  reject(error: Error): void;
}

/**
 * The process's graph worker: started by the first user, stopped when the
 * last one lets go (so a test or a closed engine leaves no thread behind).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadKernel, SegmentKernel } from "../kernel/mod.ts";
 * import { GraphBuilder } from "./graph_builder.ts";
 * const params = {
 *   dimension: 2, metric: "l2", m: 16, efConstruction: 100, listCapacity: 100, seed: 1, graph: true,
 * } as const;
 * const segment = new SegmentKernel(await loadKernel(), params);
 * const builder = GraphBuilder.acquire();
 * assert.equal(await builder.insert(segment, new Float32Array([0, 0, 1, 1]), false), 2);
 * assert.equal(segment.count, 2);
 * builder.forget(segment);
 * GraphBuilder.release();
 * ```
 */
export class GraphBuilder {
  static #shared: GraphBuilder | undefined;
  static #users = 0;

  readonly #worker: Worker;
  readonly #keys = new WeakMap<SegmentKernel, number>();
  readonly #pending = new Map<number, PendingBatch>();
  #nextKey = 1;
  #nextBatch = 1;
  #failure: Error | undefined;
  /** Released by its last user: stops once no batch is running. */
  #closing = false;

  private constructor() {
    this.#worker = new Worker(WORKER_URL, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<GraphReply>) => this.#settle(event.data);
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new Error(`The graph worker failed: ${event.message}`));
    };
  }

  /** The process's builder, started on first use; pair with {@linkcode release}. */
  static acquire(): GraphBuilder {
    GraphBuilder.#users += 1;
    GraphBuilder.#shared ??= new GraphBuilder();
    return GraphBuilder.#shared;
  }

  /**
   * One user fewer; the last one stops the worker — once the batches sent
   * have finished, so it never stops in the middle of an insert, holding a lock.
   */
  static release(): void {
    GraphBuilder.#users = Math.max(0, GraphBuilder.#users - 1);
    if (GraphBuilder.#users > 0 || GraphBuilder.#shared === undefined) return;
    const builder = GraphBuilder.#shared;
    GraphBuilder.#shared = undefined;
    builder.#closing = true;
    if (builder.#pending.size === 0) builder.#stop();
  }

  #stop(): void {
    this.#worker.terminate();
    this.#fail(new Error("The graph worker was stopped"));
  }

  /**
   * Inserts `vectors` (row-major, `segment.params.dimension` floats each) into
   * the segment, in order, on the worker. Their slots are the segment's count
   * when the batch starts, onwards; each is visible in `segment.count` as soon
   * as it is linked. The caller sends one batch per segment at a time and does
   * not insert into the segment itself meanwhile.
   *
   * @param segment the segment (attached to the worker on first use)
   * @param vectors the vectors; transferred, so the caller must not reuse them
   * @param prepared the vectors are stored vectors of a segment with the same metric
   * @returns how many were inserted (all of them)
   * @throws CapacityError when the segment could not take them all (those before were inserted);
   *   Error when the worker failed or was stopped
   */
  insert(segment: SegmentKernel, vectors: Float32Array, prepared: boolean): Promise<number> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const key = this.#attach(segment);
    const batch = this.#nextBatch++;
    const job: GraphJob = { kind: "insert", key, batch, vectors, prepared };
    return new Promise((resolve, reject) => {
      this.#pending.set(batch, { resolve, reject });
      this.#worker.postMessage(job, [vectors.buffer as ArrayBuffer]);
    });
  }

  /** The worker lets go of a segment's memory (after any batch sent before). */
  forget(segment: SegmentKernel): void {
    const key = this.#keys.get(segment);
    if (key === undefined) return;
    this.#keys.delete(segment);
    if (this.#failure === undefined) this.#worker.postMessage({ kind: "detach", key });
  }

  #attach(segment: SegmentKernel): number {
    let key = this.#keys.get(segment);
    if (key !== undefined) return key;
    key = this.#nextKey++;
    this.#keys.set(segment, key);
    const job: GraphJob = { kind: "attach", key, params: segment.params, memory: segment.memory };
    this.#worker.postMessage(job);
    return key;
  }

  #settle(reply: GraphReply): void {
    const pending = this.#pending.get(reply.batch);
    if (pending === undefined) return;
    this.#pending.delete(reply.batch);
    if (this.#closing && this.#pending.size === 0) this.#stop();
    if (reply.error === undefined) {
      pending.resolve(reply.inserted);
    } else if (reply.error.capacity) {
      pending.reject(new CapacityError(reply.error.message));
    } else {
      pending.reject(new Error(`Graph building failed: ${reply.error.message}`));
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
