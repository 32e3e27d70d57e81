import { ROOT_CONTEXT, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';

/**
 * Runs `fn` in an OpenTelemetry span, a child of the active one (the HTTP request, an agent turn):
 * a no-op costing a function call unless the kernel exports traces (OTEL_EXPORTER_OTLP_ENDPOINT).
 * Plugins use it for their units of work: `withSpan('agent turn', { session }, () => …)`.
 * Work that runs later or on another kernel (a job) continues the trace it was asked in: pass the
 * `traceparent` stored with it (`activeTraceparent()` when it was asked).
 */
export function withSpan<T>(name: string, attributes: Record<string, string | number | boolean>, fn: (span: Span) => Promise<T>, options: { traceparent?: string | null } = {}): Promise<T> {
  const tracer = trace.getTracer('plinth');
  if (!options.traceparent) return tracer.startActiveSpan(name, { attributes }, span => endSpan(span, fn));
  const parent = propagation.extract(ROOT_CONTEXT, { traceparent: options.traceparent });
  return tracer.startActiveSpan(name, { attributes }, parent, span => endSpan(span, fn));
}

/**
 * The W3C `traceparent` of the active span, to store with work done later (a job row), so its span
 * continues this trace; null when nothing is traced (no tracer provider, no active span).
 */
export function activeTraceparent(): string | null {
  if (!trace.getSpan(context.active())?.isRecording()) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

/** Ends the span when `fn` settles, recording a failure as the span's error. */
export async function endSpan<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
    throw err;
  } finally {
    span.end();
  }
}
