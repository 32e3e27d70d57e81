import { INVALID_SPAN_CONTEXT, ProxyTracerProvider, SpanKind, context, propagation, trace, type Span } from '@opentelemetry/api';
import { endSpan } from '../../sdk';
import { KERNEL_VERSION } from '../version';

/**
 * The kernel's spans, through `@opentelemetry/api` alone: a no-op costing a function call until a
 * tracer provider is registered (plugins/observability registers one that exports over OTLP); the
 * W3C `traceparent` header then carries a trace from one kernel (or client) to the next.
 */
export const tracer = trace.getTracer('plinth', KERNEL_VERSION);

/** What the API hands out while no tracer provider is registered. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs `fn` in a server span (`HTTP <method>`) continued from the request's `traceparent`, if any.
 * With no tracer provider registered, `fn` runs straight away with the no-op span, and nothing
 * of the span (its name, its attributes) is built.
 */
export function inServerSpan<T>(method: string, headers: Record<string, unknown>, fn: (span: Span) => Promise<T>): Promise<T> {
  if ((trace.getTracerProvider() as ProxyTracerProvider).getDelegate() === NOOP_PROVIDER) return fn(NOOP_SPAN);
  const parent = propagation.extract(context.active(), headers);
  return tracer.startActiveSpan(`HTTP ${method}`, { kind: SpanKind.SERVER }, parent, span => endSpan(span, fn));
}
