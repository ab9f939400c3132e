/**
 * The parse worker's entry point: receives an upsert body's bytes
 * (transferred), runs {@linkcode parseUpsertBytes} — the very code the
 * request thread runs for small bodies — and posts back the batch with its
 * packed vectors transferred, or the error as a {@linkcode WireError}. It
 * never throws out of a message: bad input is an answer, not a crash.
 *
 * Started by `parse_pool.ts`; `deno compile` embeds it through `--include`
 * (`scripts/compile.ts`).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { lowerThisThreadPriority, NICE } from "../thread_priority.ts";
import { parseUpsertBytes } from "./upsert_batch.ts";
import { toWireError } from "./upsert_batch.ts";
import type { ParseJob, ParseReply } from "./parse_pool.ts";

// Parsing a large batch is throughput work: searches on the request thread come first.
lowerThisThreadPriority(NICE.parsing);

self.onmessage = (event: MessageEvent<ParseJob>) => {
  const { jobId, bytes, maxBatchPoints, dimension } = event.data;
  let reply: ParseReply;
  try {
    const batch = parseUpsertBytes(new Uint8Array(bytes), maxBatchPoints, dimension);
    reply = { jobId, ok: true, batch };
    if (batch !== undefined) {
      self.postMessage(reply, [batch.vectors.buffer as ArrayBuffer]);
      return;
    }
  } catch (error) {
    reply = { jobId, ok: false, error: toWireError(error) };
  }
  self.postMessage(reply);
};
