/**
 * Lets requests in flight finish before the server stops. Deno 2.9.6's
 * `HttpServer.shutdown()` fails the body of a request still being uploaded
 * ("Cannot read request body as underlying resource unavailable"), so a
 * graceful stop first waits here until every request has been answered, and
 * only then shuts the listener down. Requests that arrive meanwhile get 503
 * `shutting_down` with `Connection: close`, so clients retry elsewhere.
 *
 * @module
 */

/** A `Deno.serve` handler. */
export type FetchHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/**
 * Counts requests in flight through a handler and waits for them to finish.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestDrain } from "./request_drain.ts";
 * const drain = new RequestDrain();
 * const { promise: answer, resolve } = Promise.withResolvers<Response>();
 * const fetch = drain.wrap(() => answer);
 * const info = {} as Deno.ServeHandlerInfo<Deno.NetAddr>;
 * const inFlight = fetch(new Request("http://x/"), info);
 * const drained = drain.close();
 * assert.equal((await fetch(new Request("http://x/"), info)).status, 503);
 * resolve(new Response("ok"));
 * assert.equal(await (await inFlight).text(), "ok");
 * await drained;
 * ```
 */
export class RequestDrain {
  #inFlight = 0;
  #closing = false;
  #idleWaiters: (() => void)[] = [];

  /** Requests started and not yet answered. */
  get inFlightCount(): number {
    return this.#inFlight;
  }

  /**
   * Wraps a handler so its requests are counted.
   *
   * @param handler the app's handler
   * @returns a handler for `Deno.serve`
   */
  wrap(handler: FetchHandler): FetchHandler {
    return async (request, info) => {
      if (this.#closing) return shuttingDown();
      this.#inFlight += 1;
      try {
        return await handler(request, info);
      } finally {
        this.#inFlight -= 1;
        if (this.#inFlight === 0) this.#wakeIdleWaiters();
      }
    };
  }

  /**
   * Refuses new requests from now on and waits for those in flight.
   *
   * @returns resolves once no request is in flight
   */
  close(): Promise<void> {
    this.#closing = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wakeIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

function shuttingDown(): Response {
  const body = {
    error: { code: "shutting_down", message: "Cannot serve: the server is shutting down" },
  };
  return Response.json(body, {
    status: 503,
    headers: { "connection": "close", "retry-after": "1" },
  });
}
