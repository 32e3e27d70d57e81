import type { Logger } from 'plinth/sdk';

/**
 * OpenTelemetry traces. The kernel and plugins make spans through `@opentelemetry/api`, a no-op
 * until a tracer provider is registered. With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, this registers the OpenTelemetry Node SDK with the
 * OTLP/HTTP exporter — packages installed only by deployments that export
 * (`npm install @opentelemetry/sdk-trace-node @opentelemetry/exporter-trace-otlp-http`).
 * Answers what shuts the provider down.
 */
export function startTracing(log: Logger, env: Record<string, string | undefined>): () => Promise<void> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return async () => undefined;
  try {
    const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
    const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
    provider.register();
    log.info('tracing: exporting spans over OTLP', { endpoint });
    return () => provider.shutdown();
  } catch (err) {
    log.warn('tracing: OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not installed; spans are not exported', { err: (err as Error).message });
    return async () => undefined;
  }
}
