import { INVALID_SPAN_CONTEXT, ProxyTracerProvider, SpanKind, context, propagation, trace, type Span } from '@opentelemetry/api';
import { endSpan, type Logger } from '../../sdk';
import { KERNEL_VERSION } from '../version';

/**
 * OpenTelemetry traces. `@opentelemetry/api` alone is a no-op: spans cost a function call until a
 * tracer provider is registered. With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, the kernel registers the OpenTelemetry Node SDK with
 * the OTLP/HTTP exporter — packages installed only by deployments that export
 * (`npm install @opentelemetry/sdk-trace-node @opentelemetry/exporter-trace-otlp-http`); the
 * W3C `traceparent` header then carries a trace from one kernel (or client) to the next.
 */
export const tracer = trace.getTracer('plinth', KERNEL_VERSION);

export function startTracing(log: Logger, env: NodeJS.ProcessEnv = process.env): () => Promise<void> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return async () => undefined;
  try {
    const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
    const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
    provider.register();
    log.info('tracing: exporting spans over OTLP', { endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT });
    return () => provider.shutdown();
  } catch (err) {
    log.warn('tracing: OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not installed; spans are not exported', { err: (err as Error).message });
    return async () => undefined;
  }
}

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
