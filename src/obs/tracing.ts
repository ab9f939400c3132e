/**
 * AkiDB's OpenTelemetry spans, through `@opentelemetry/api`. Deno's built-in
 * OpenTelemetry (`OTEL_DENO=true`) exports them over OTLP together with the
 * server span `Deno.serve` makes for every request; ours are its children.
 *
 * Sampling is AkiDB's own: the HTTP middleware calls {@linkcode sampleRequest}
 * once per request and, for the sampled ones, opens a span and marks the
 * context; {@linkcode withSpan} and {@linkcode recordSpan} below it only make
 * spans in a marked context. Unsampled requests therefore cost one random
 * number. (Deno 2.9's own `OTEL_TRACES_SAMPLER=traceidratio` was measured to
 * keep either none or all spans, so it is not relied on; see
 * `docs/OBSERVABILITY.md`.) Background work (automatic snapshots, tier moves)
 * starts its own root with {@linkcode withRootSpan}.
 *
 * With `tracing.enabled = false` (the default) every helper is a plain call.
 *
 * @module
 */

import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";

/** The tracing settings (`[tracing]` in the configuration). */
export interface TracingOptions {
  /** Make spans at all. */
  readonly enabled: boolean;
  /** Fraction of requests (and background roots) traced, 0..1. */
  readonly sampleRatio: number;
}

const SAMPLED = createContextKey("akidb.sampled");

let options: TracingOptions = { enabled: false, sampleRatio: 0 };
let tracer: Tracer = trace.getTracer("akidb");

/**
 * Sets the process-wide tracing options (OpenTelemetry's tracer provider is
 * process-wide too).
 *
 * @param next Whether to trace and the sample ratio.
 * @param version The service version recorded as the tracer's version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configureTracing, tracingEnabled } from "./tracing.ts";
 * configureTracing({ enabled: false, sampleRatio: 0 });
 * assert.equal(tracingEnabled(), false);
 * ```
 */
export function configureTracing(next: TracingOptions, version?: string): void {
  if (!(next.sampleRatio >= 0 && next.sampleRatio <= 1)) {
    throw new RangeError(
      `Cannot configure tracing: sample ratio is ${next.sampleRatio}, expected 0..1`,
    );
  }
  options = { enabled: next.enabled, sampleRatio: next.sampleRatio };
  tracer = trace.getTracer("akidb", version);
}

/**
 * Whether AkiDB makes spans.
 *
 * @returns `tracing.enabled`
 */
export function tracingEnabled(): boolean {
  return options.enabled;
}

/**
 * Whether spans are exported: true only when a real tracer provider is
 * installed (Deno's, with `OTEL_DENO=true`). Probes with one span it never ends.
 *
 * @returns whether an exporting tracer provider is active
 */
export function tracingExported(): boolean {
  const probe = trace.getTracer("akidb.probe").startSpan("probe");
  // Never ended, so never exported.
  return probe.spanContext().traceId !== "00000000000000000000000000000000";
}

/**
 * Decides whether one request is traced.
 *
 * @returns true with probability `sampleRatio` when tracing is enabled
 */
export function sampleRequest(): boolean {
  return options.enabled && options.sampleRatio > 0 && Math.random() < options.sampleRatio;
}

/**
 * The span of the request being served by `Deno.serve` (when OTel is on), so
 * the HTTP middleware can name it by its route.
 *
 * @returns the active span, if any
 */
export function activeSpan(): Span | undefined {
  return trace.getActiveSpan();
}

/**
 * Runs `work` inside a new span that is the root of AkiDB's spans for one
 * request (a child of Deno's server span) and marks the context as sampled.
 *
 * @param name The span's name.
 * @param attributes Its first attributes.
 * @param work Runs with the span active; may set more attributes.
 * @returns what `work` returns
 */
export async function withRequestSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes });
  const ctx: Context = trace.setSpan(context.active(), span).setValue(SAMPLED, true);
  return await context.with(ctx, () => runInSpan(span, work));
}

/**
 * Runs `work` in a child span when the current request is sampled;
 * otherwise just runs it (the span argument is then undefined).
 *
 * @param name The span's name, e.g. `akidb.search`.
 * @param attributes Its first attributes.
 * @param work The work; may add attributes to the span when there is one.
 * @returns what `work` returns
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withSpan } from "./tracing.ts";
 * assert.equal(await withSpan("akidb.test", {}, () => Promise.resolve(42)), 42);
 * ```
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  // Not async: the unsampled path (nearly every call) adds no promise of its own.
  if (!options.enabled || context.active().getValue(SAMPLED) !== true) return work(undefined);
  return tracer.startActiveSpan(name, { attributes }, (span) => runInSpan(span, work));
}

/**
 * Runs background work (an automatic snapshot, a tier move, an upload) in a
 * new root span when sampled; inside a sampled request it is a child instead.
 *
 * @param name The span's name.
 * @param attributes Its first attributes.
 * @param work The work.
 * @returns what `work` returns
 */
export async function withRootSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!options.enabled) return await work(undefined);
  if (context.active().getValue(SAMPLED) === true) return await withSpan(name, attributes, work);
  if (!sampleRequest()) return await work(undefined);
  const span = tracer.startSpan(name, { attributes, root: true });
  const ctx = trace.setSpan(context.active(), span).setValue(SAMPLED, true);
  return await context.with(ctx, () => runInSpan(span, work));
}

/**
 * Records a span for work that already finished (timings reported by an
 * observer, e.g. a WAL fsync), when the current context is sampled.
 *
 * @param name The span's name.
 * @param seconds How long the work took; the span ends now.
 * @param attributes Its attributes.
 */
export function recordSpan(name: string, seconds: number, attributes: Attributes = {}): void {
  if (!options.enabled || context.active().getValue(SAMPLED) !== true) return;
  const endMs = performance.timeOrigin + performance.now();
  tracer.startSpan(name, { attributes, startTime: endMs - seconds * 1000 }).end(endMs);
}

async function runInSpan<T, S extends Span | undefined>(
  span: Span,
  work: (span: S) => Promise<T>,
): Promise<T> {
  try {
    return await work(span as S);
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? "" });
    throw error;
  } finally {
    span.end();
  }
}
