/**
 * OpenTelemetry traces. Every layer marks its steps with `inSpan(name, fn)`; while tracing is off (no
 * OTLP endpoint configured, the default) that is a plain call of `fn`: no SDK loaded, no span objects,
 * no context switches. `startTracing()` (the server does it when OTEL_EXPORTER_OTLP_ENDPOINT is set)
 * loads the SDK, registers a provider with the W3C trace-context propagator and an AsyncLocalStorage
 * context manager, and exports through OTLP/HTTP (http/protobuf or http/json), or into the exporter a
 * test hands it (an in-memory one).
 *
 * Only the API (@opentelemetry/api) is imported statically; the SDK and the exporters are imported by
 * startTracing(). Like config/ and text/, this folder is the base every layer may use.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace-node";

export { SpanKind, type Attributes, type Span };

const TRACER_NAME = "llmops-qa";

/** The tracer while tracing is on; undefined when off (inSpan then only calls its function). */
let tracer: Tracer | undefined;

export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

export interface TracingOptions {
  serviceName: string;
  serviceVersion?: string;
  /** OTLP/HTTP traces URL (…/v1/traces). */
  url?: string;
  protocol?: "http/protobuf" | "http/json";
  /** An exporter of the caller's (tests: InMemorySpanExporter); spans are then exported one by one as they end. */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** Flushes, then turns tracing off for the process. */
  shutdown(): Promise<void>;
}

/**
 * Turns tracing on for this process (one provider at a time: a second start while one is on throws).
 * With `url`, spans are batched and sent to the OTLP/HTTP endpoint; with `exporter`, to that exporter.
 */
export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  if (tracer) throw new Error("tracing is already on in this process; shut the running provider down first");
  const { NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } = await import("@opentelemetry/sdk-trace-node");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  let exporter = opts.exporter;
  if (!exporter) {
    if (!opts.url) throw new Error("startTracing: give an OTLP url or an exporter");
    exporter =
      opts.protocol === "http/json"
        ? new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter({ url: opts.url })
        : new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter({ url: opts.url });
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": opts.serviceName, ...(opts.serviceVersion ? { "service.version": opts.serviceVersion } : {}) }),
    spanProcessors: [opts.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  // Global context manager (AsyncLocalStorage) and W3C traceparent/baggage propagator.
  provider.register();
  tracer = provider.getTracer(TRACER_NAME, opts.serviceVersion);
  let stopped: Promise<void> | undefined;
  return {
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopped ??= (async () => {
        try {
          await provider.forceFlush();
          await provider.shutdown();
        } finally {
          tracer = undefined;
          trace.disable();
          context.disable();
          propagation.disable();
        }
      })()),
  };
}

export interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** Parent context (default: the active one). */
  parent?: Context;
}

/**
 * Runs `fn` in a child span of the active span (sync or async: the span ends when the result settles);
 * an exception is recorded on the span and rethrown. Tracing off: `fn(undefined)` and nothing else.
 */
export function inSpan<T>(name: string, fn: (span: Span | undefined) => T, opts: SpanOptions = {}): T {
  if (!tracer) return fn(undefined);
  return tracer.startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes }, opts.parent ?? context.active(), (span) => {
    try {
      const out = fn(span);
      if (out instanceof Promise)
        return out.then(
          (v) => {
            span.end();
            return v;
          },
          (err: unknown) => {
            failed(span, err);
            span.end();
            throw err;
          },
        ) as T;
      span.end();
      return out;
    } catch (err) {
      failed(span, err);
      span.end();
      throw err;
    }
  });
}

function failed(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message.split("\n")[0]!.slice(0, 200) });
}

/** Marks a span as failed without an exception (an HTTP 5xx, an upstream failure that was handled). */
export function markError(span: Span | undefined, message: string): void {
  span?.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Sets attributes on the active span, if any. */
export function annotate(attributes: Attributes): void {
  if (tracer) trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active span's trace id, when tracing is on and a span is active. */
export function activeTraceId(): string | undefined {
  return tracer ? trace.getActiveSpan()?.spanContext().traceId : undefined;
}

// ---------------------------------------------------------------------------------------------
// For hosts that receive requests (the HTTP server): a server span continuing the caller's trace.

export interface ServerSpan {
  span: Span;
  /** The context with this span active: run the request's handlers in it. */
  context: Context;
  /** The W3C `traceparent` of this span, for the response header. */
  traceparent: string;
}

/** Starts a SERVER span whose parent is the trace in the carrier's `traceparent` (when valid); undefined when tracing is off. */
export function startServerSpan(name: string, carrier: Record<string, string | string[] | undefined>, attributes: Attributes): ServerSpan | undefined {
  if (!tracer) return undefined;
  const parent = propagation.extract(context.active(), carrier);
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  const out: Record<string, string> = {};
  propagation.inject(ctx, out);
  return { span, context: ctx, traceparent: out.traceparent ?? "" };
}

/** Runs `fn` with `ctx` as the active context (restoring a request's context after a callback lost it). */
export function withContext<T>(ctx: Context | undefined, fn: () => T): T {
  return ctx && tracer ? context.with(ctx, fn) : fn();
}
