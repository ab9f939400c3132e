/**
 * The closed set of AkiDB's domain errors. Built-in errors keep their meaning
 * (`TypeError`: wrong shape, `RangeError`: out of bounds, `SyntaxError`:
 * unparsable); these four cover what the built-ins cannot say. The HTTP layer
 * maps every one of them to a status in exactly one place.
 *
 * Messages read "action first, state after a colon, no final period":
 * `Cannot upsert point "a1": dimension is 384, expected 768`.
 *
 * @module
 */

/** Options shared by every domain error. */
export interface DomainErrorOptions {
  /** The lower-level error that caused this one. */
  cause?: unknown;
  /** A stable machine-readable code for API clients, e.g. `collection_not_found`. */
  code?: string;
}

/** Base of the domain errors: sets `name` and keeps an optional stable `code`. */
abstract class DomainError extends Error {
  /** Stable machine-readable code, or undefined to let the API choose one by class. */
  readonly code: string | undefined;

  constructor(message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
  }
}

/**
 * Something that was asked for does not exist.
 *
 * @example
 * ```ts
 * import { assert } from "node:assert";
 * const error = new NotFoundError('Cannot find collection "x": no such name or id');
 * assert(error.name === "NotFoundError");
 * ```
 */
export class NotFoundError extends DomainError {}

/** The request conflicts with existing state (a taken name, a concurrent change). */
export class ConflictError extends DomainError {}

/** Stored data failed a check (checksum, length, format); the data must not be used. */
export class CorruptionError extends DomainError {}

/** A resource limit was reached (memory, disk, segment capacity, queue bound). */
export class CapacityError extends DomainError {}
