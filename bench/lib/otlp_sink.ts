/**
 * A stand-in OTLP/HTTP receiver for benchmarks: it accepts whatever an
 * exporter sends, counts the requests and bytes, and discards them, so a
 * benchmark can report how much a traced process exported.
 *
 * @module
 */

/** What an {@linkcode OtlpSink} has received so far. */
export interface OtlpSinkStats {
  /** Export requests received. */
  requests: number;
  /** Body bytes received over all requests. */
  bytes: number;
}

/** A running OTLP sink on 127.0.0.1. */
export interface OtlpSink {
  /** Base URL to give an exporter as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly endpoint: string;
  /** Live counts, updated as requests arrive. */
  readonly stats: OtlpSinkStats;
  /** Stops listening. */
  shutdown(): Promise<void>;
}

/**
 * Starts a sink that answers every request with 200 and counts what it was sent.
 *
 * @returns The sink; call `shutdown()` when done.
 * @example
 * ```ts
 * import { startOtlpSink } from "./otlp_sink.ts";
 * const sink = startOtlpSink();
 * const response = await fetch(`${sink.endpoint}/v1/traces`, { method: "POST", body: "abc" });
 * await response.body?.cancel();
 * await sink.shutdown();
 * if (sink.stats.requests !== 1 || sink.stats.bytes !== 3) throw new Error();
 * ```
 */
export function startOtlpSink(): OtlpSink {
  const stats: OtlpSinkStats = { requests: 0, bytes: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = new Uint8Array(await request.arrayBuffer());
    stats.requests += 1;
    stats.bytes += body.byteLength;
    return new Response(null, { status: 200 });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    stats,
    shutdown: () => server.shutdown(),
  };
}
