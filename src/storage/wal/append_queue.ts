/**
 * The bounded queue between `append()` callers and the group-commit loop:
 * admission with back-pressure (a byte budget, a bounded FIFO of waiters),
 * the FIFO of admitted records, and taking bounded groups off its head.
 *
 * @module
 */

import { CapacityError } from "../../errors.ts";
import type { RecordType } from "./record_type.ts";

/** A record admitted to the queue, waiting for its group commit. */
export interface PendingAppend {
  /** Its LSN. */
  readonly lsn: number;
  /** Its type. */
  readonly type: RecordType;
  /** Its encoded payload. */
  readonly payload: Uint8Array;
  /** Its size on disk, header included. */
  readonly recordBytes: number;
  /** `performance.now()` at the `append()` call. */
  readonly startedAtMs: number;
  /** Acknowledge with the LSN. */
  readonly resolve: (lsn: number) => void;
  /** Fail the append. */
  readonly reject: (error: unknown) => void;
}

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Limits of an {@link AppendQueue}. */
export interface AppendQueueLimits {
  /** Bytes admitted and not yet released; beyond, admission waits. */
  readonly queueBytesMax: number;
  /** Callers waiting for admission; beyond, admission fails with `CapacityError`. */
  readonly appendersWaitingMax: number;
}

/**
 * Admission control and the FIFO of pending records.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_support.ts";
 * const queue = new AppendQueue({ queueBytesMax: 100, appendersWaitingMax: 10 });
 * assertEquals(queue.admit(60), undefined); // admitted at once
 * const waiting = queue.admit(60); // over budget: a promise
 * assertEquals(waiting instanceof Promise, true);
 * queue.release(60);
 * await waiting;
 * ```
 */
export class AppendQueue {
  readonly #limits: AppendQueueLimits;
  #items: PendingAppend[] = [];
  #head = 0;
  #admittedBytes = 0;
  #waiters: Waiter[] = [];

  /** @param limits The byte budget and the bound on waiting callers. */
  constructor(limits: AppendQueueLimits) {
    this.#limits = limits;
  }

  /** @returns How many admitted records are waiting for a group. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** @returns Bytes admitted and not yet released. */
  get admittedBytes(): number {
    return this.#admittedBytes;
  }

  /**
   * Reserve `bytes` of the budget, in FIFO order with earlier callers. A record larger than the
   * whole budget is admitted when nothing else is.
   *
   * @param bytes The record's size.
   * @returns `undefined` when admitted at once, else a promise that resolves on admission.
   * @throws {CapacityError} When too many callers are already waiting.
   */
  admit(bytes: number): Promise<void> | undefined {
    if (this.#waiters.length === 0 && this.#fits(bytes)) {
      this.#admittedBytes += bytes;
      return undefined;
    }
    if (this.#waiters.length >= this.#limits.appendersWaitingMax) {
      throw new CapacityError(
        `Cannot append to WAL: ${this.#waiters.length} appenders already wait for queue space`,
      );
    }
    return new Promise((resolve, reject) => this.#waiters.push({ bytes, resolve, reject }));
  }

  /**
   * Add an admitted record at the tail.
   *
   * @param item The record.
   */
  push(item: PendingAppend): void {
    this.#items.push(item);
  }

  /**
   * Take the longest run from the head that fits both bounds (at least one record).
   *
   * @param bytesMax Most bytes in the group.
   * @param recordsMax Most records in the group.
   * @returns The group, possibly empty when the queue is.
   */
  takeGroup(bytesMax: number, recordsMax: number): PendingAppend[] {
    const group: PendingAppend[] = [];
    let bytes = 0;
    while (this.#head < this.#items.length && group.length < recordsMax) {
      const item = this.#items[this.#head]!;
      if (group.length > 0 && bytes + item.recordBytes > bytesMax) break;
      group.push(item);
      bytes += item.recordBytes;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return group;
  }

  /**
   * Return `bytes` to the budget and admit waiters that now fit, in order.
   *
   * @param bytes What a finished group had reserved.
   */
  release(bytes: number): void {
    this.#admittedBytes -= bytes;
    let admitted = 0;
    for (const waiter of this.#waiters) {
      if (!this.#fits(waiter.bytes)) break;
      this.#admittedBytes += waiter.bytes;
      waiter.resolve();
      admitted += 1;
    }
    if (admitted > 0) this.#waiters.splice(0, admitted);
  }

  /**
   * Fail every queued record and every waiting caller.
   *
   * @param error The reason.
   */
  failAll(error: unknown): void {
    for (const item of this.#items.slice(this.#head)) item.reject(error);
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#items = [];
    this.#head = 0;
    this.#waiters = [];
    this.#admittedBytes = 0;
  }

  #fits(bytes: number): boolean {
    return this.#admittedBytes === 0 || this.#admittedBytes + bytes <= this.#limits.queueBytesMax;
  }
}
