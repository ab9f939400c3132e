import assert from "node:assert/strict";
import os from "node:os";
import { NICE } from "./thread_priority.ts";

Deno.test("thread priority: a worker lowers its own thread's priority, not the process's", async () => {
  const source = `
    import os from "node:os";
    import { lowerThisThreadPriority } from ${
    JSON.stringify(import.meta.resolve("./thread_priority.ts"))
  };
    const lowered = lowerThisThreadPriority(${NICE.graphBuilding});
    self.postMessage({ lowered, nice: os.getPriority(0) });
  `;
  const before = os.getPriority(0);
  const url = `data:application/typescript,${encodeURIComponent(source)}`;
  const worker = new Worker(url, { type: "module" });
  try {
    const reply = await new Promise<{ lowered: boolean; nice: number }>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
    });
    assert.deepEqual(reply, { lowered: true, nice: NICE.graphBuilding });
    assert.equal(os.getPriority(0), before); // the request thread keeps its priority
  } finally {
    worker.terminate();
  }
});
