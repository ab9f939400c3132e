/**
 * AkiDB's OpenTelemetry spans, through `@opentelemetry/api`. Deno's built-in
 * OpenTelemetry (`OTEL_DENO=true`) exports them over OTLP together with the
 * server span `Deno.serve` makes for every request; ours are its children.
 *
 * Sampling is Deno's: `OTEL_TRACES_SAMPLER=parentbased_traceidratio` with
 * `OTEL_TRACES_SAMPLER_ARG=<tracing.sample_ratio>` makes Deno keep that
 * fraction of server spans (by trace id, or as an upstream `traceparent`
 * says) and drop the others before anything is recorded. AkiDB follows the
 * server span's sampled flag ({@linkcode sampledServerSpan}): for a sampled
 * request the HTTP middleware opens AkiDB's request span and marks the
 * context; {@linkcode withSpan} and {@linkcode recordSpan} make spans only in
 * a marked context. So a trace is whole (Deno's server span and all of
 * AkiDB's spans) or absent, and an unsampled request costs one flag test.
 * Background work (automatic snapshots, tier moves) starts its own root with
 * {@linkcode withRootSpan}, which Deno's sampler decides the same way.
 * Deno reads the sampler from the environment before any of AkiDB runs, so
 * AkiDB cannot set it; {@linkcode samplerWarning} tells when Deno's sampling
 * does not match `tracing.sample_ratio`. See `docs/OBSERVABILITY.md`.
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
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";

/** The tracing settings (`[tracing]` in the configuration). */
export interface TracingOptions {
  /** Make spans at all. */
  readonly enabled: boolean;
  /**
   * Fraction of traces kept, 0..1. Deno's sampler applies it (from
   * `OTEL_TRACES_SAMPLER_ARG`); AkiDB only checks that Deno's sampling
   * matches ({@linkcode samplerWarning}).
   */
  readonly sampleRatio: number;
}

const SAMPLED = createContextKey("akidb.sampled");
const INVALID_TRACE_ID = "00000000000000000000000000000000";

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
 * installed (Deno's, with `OTEL_DENO=true`). Probes with one span it never
 * ends (Deno records and exports a span only when it ends).
 *
 * @returns whether an exporting tracer provider is active
 */
export function tracingExported(): boolean {
  const probe = trace.getTracer("akidb.probe").startSpan("probe", { root: true });
  return probe.spanContext().traceId !== INVALID_TRACE_ID;
}

/** Root spans {@linkcode samplerWarning} starts to see how often Deno samples. */
export const SAMPLER_PROBE_COUNT = 64;

/**
 * Compares how Deno samples new traces with `tracing.sample_ratio`: starts
 * {@linkcode SAMPLER_PROBE_COUNT} root spans it never ends (so none is
 * exported) and counts the sampled ones. Warns only when the count is
 * implausible for the configured ratio (a chance below 1e-3): all sampled
 * although the ratio is at most 0.9 (Deno's default `always_on`: every
 * request exported), or none sampled although the ratio is at least 0.1.
 *
 * @returns a warning to log, or undefined when tracing is off, nothing is
 * exported, or Deno's sampling is plausible
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configureTracing, samplerWarning } from "./tracing.ts";
 * configureTracing({ enabled: true, sampleRatio: 0.01 });
 * assert.equal(samplerWarning(), undefined); // no OTEL_DENO: nothing to check
 * configureTracing({ enabled: false, sampleRatio: 0 });
 * ```
 */
export function samplerWarning(): string | undefined {
  if (!options.enabled || !tracingExported()) return undefined;
  const probes = trace.getTracer("akidb.probe");
  let sampled = 0;
  for (let i = 0; i < SAMPLER_PROBE_COUNT; i++) {
    if (isSampled(probes.startSpan("probe", { root: true }))) sampled++;
  }
  const ratio = options.sampleRatio;
  const expected = `OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=${ratio}`;
  if (sampled === SAMPLER_PROBE_COUNT && ratio <= 0.9) {
    return `Deno samples every trace, tracing.sample_ratio is ${ratio}: start with ${expected}`;
  }
  if (sampled === 0 && ratio >= 0.1) {
    return `Deno samples no trace, tracing.sample_ratio is ${ratio}: start with ${expected}`;
  }
  return undefined;
}

/**
 * Whether a span is sampled (Deno records and exports it).
 *
 * @param span Any span.
 * @returns whether its trace flags have the sampled bit
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trace } from "@opentelemetry/api";
 * import { isSampled } from "./tracing.ts";
 * assert.equal(isSampled(trace.wrapSpanContext({
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1,
 * })), true);
 * ```
 */
export function isSampled(span: Span): boolean {
  return (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
}

/**
 * The span of the request being served by `Deno.serve` when Deno sampled
 * it, so the HTTP middleware can name it by its route and trace the request.
 *
 * @returns the active span if tracing is enabled and the span is sampled
 */
export function sampledServerSpan(): Span | undefined {
  if (!options.enabled) return undefined;
  const span = trace.getActiveSpan();
  return span !== undefined && isSampled(span) ? span : undefined;
}

/**
 * Runs `work` inside a new span that is the root of AkiDB's spans for one
 * sampled request (a child of the active span, Deno's server span) and marks
 * the context as sampled. Call it only when {@linkcode sampledServerSpan}
 * returned a span.
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
 * new root span when Deno's sampler keeps it; inside a sampled request it is
 * a child instead.
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
  const span = tracer.startSpan(name, { attributes, root: true });
  // Unsampled: Deno neither records nor exports it, and it needs no end.
  if (!isSampled(span)) return await work(undefined);
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
