/**
 * The graph worker (see `graph_builder.ts`): keeps an instance attached to
 * each segment it was given and inserts the batches it receives, in order,
 * each vector under the segment's lock.
 *
 * It runs at a lower CPU priority than the request thread (`thread_priority.ts`):
 * graph building uses whatever CPU is idle, and requests come first.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { CapacityError } from "../errors.ts";
import { loadKernel, SegmentKernel } from "../kernel/mod.ts";
import { lowerThisThreadPriority, NICE } from "../thread_priority.ts";
import type { GraphJob, GraphReply } from "./graph_builder.ts";

lowerThisThreadPriority(NICE.graphBuilding);

const kernel = loadKernel();
const segments = new Map<number, SegmentKernel>();
/** Jobs run one after another, in the order they came (the first waits for the kernel). */
let previous: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<GraphJob>) => {
  previous = previous.then(() => run(event.data));
};

async function run(job: GraphJob): Promise<void> {
  if (job.kind === "attach") {
    segments.set(job.key, SegmentKernel.attach(await kernel, job.params, job.memory));
  } else if (job.kind === "detach") {
    segments.delete(job.key);
  } else {
    self.postMessage(insertBatch(segments.get(job.key), job.batch, job.vectors, job.prepared));
  }
}

function insertBatch(
  segment: SegmentKernel | undefined,
  batch: number,
  vectors: Float32Array,
  prepared: boolean,
): GraphReply {
  if (segment === undefined) {
    return { batch, inserted: 0, error: { message: "unknown segment", capacity: false } };
  }
  const dimension = segment.params.dimension;
  const count = vectors.length / dimension;
  for (let i = 0; i < count; i++) {
    segment.lock();
    try {
      segment.insert(vectors.subarray(i * dimension, (i + 1) * dimension), prepared);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { batch, inserted: i, error: { message, capacity: error instanceof CapacityError } };
    } finally {
      segment.unlock();
    }
  }
  return { batch, inserted: count };
}
