/**
 * A gate in front of a collection's writes: writes register while in flight
 * (from validation to apply); {@linkcode WriteGate.exclusive} holds new writes,
 * waits for those in flight, and runs work that must see no write (a restore
 * swapping the state). Reads are not affected.
 *
 * @module
 */

/**
 * Counts writes in flight and lets one piece of work run with none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WriteGate } from "./write_gate.ts";
 * const gate = new WriteGate();
 * const order: string[] = [];
 * const write = gate.write(async () => { await Promise.resolve(); order.push("write"); });
 * await gate.exclusive(async () => { order.push("exclusive"); });
 * await write;
 * assert.deepEqual(order, ["write", "exclusive"]);
 * ```
 */
export class WriteGate {
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #closed: Promise<void> | undefined;

  /**
   * Runs one write: waits while exclusive work runs, then counts it in flight until it settles.
   *
   * @param write the write
   * @returns its result
   */
  async write<T>(write: () => Promise<T>): Promise<T> {
    while (this.#closed !== undefined) await this.#closed;
    this.#inFlight += 1;
    try {
      return await write();
    } finally {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  }

  /**
   * Holds new writes, waits until none is in flight, runs `work`, then lets writes through.
   *
   * @param work what must run with no write in flight
   * @returns its result
   */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.#closed !== undefined) await this.#closed;
    let release!: () => void;
    this.#closed = new Promise((resolve) => (release = resolve));
    try {
      while (this.#inFlight > 0) {
        await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      }
      return await work();
    } finally {
      this.#closed = undefined;
      release();
    }
  }
}
