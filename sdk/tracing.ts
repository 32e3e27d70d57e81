import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';

/**
 * Runs `fn` in an OpenTelemetry span, a child of the active one (the HTTP request, an agent turn):
 * a no-op costing a function call unless the kernel exports traces (OTEL_EXPORTER_OTLP_ENDPOINT).
 * Plugins use it for their units of work: `withSpan('agent turn', { session }, () => …)`, `withSpan('job', { job: id, type }, …)`.
 */
export function withSpan<T>(name: string, attributes: Record<string, string | number | boolean>, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer('plinth').startActiveSpan(name, { attributes }, span => endSpan(span, fn));
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
