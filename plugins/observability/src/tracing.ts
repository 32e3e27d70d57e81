import type { Logger } from 'plinth/sdk';

/** The provider this process registered, kept across generations (a reload loads this module afresh). */
const REGISTERED = Symbol.for('plinth.observability.tracerProvider');

/**
 * OpenTelemetry traces. The kernel and plugins make spans through `@opentelemetry/api`, a no-op
 * until a tracer provider is registered. With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, this registers the OpenTelemetry Node SDK with the
 * OTLP/HTTP exporter — packages installed only by deployments that export
 * (`npm install @opentelemetry/sdk-trace-node @opentelemetry/exporter-trace-otlp-http`).
 * Registered once per process: the API keeps the first provider, and tracers made before (the
 * kernel's) hold on to it, so a reload keeps exporting through it and a changed endpoint takes
 * effect at restart. Answers what flushes the spans when the generation goes.
 */
export function startTracing(log: Logger, env: Record<string, string | undefined>): () => Promise<void> {
  // The signal-specific variable is the full URL; the general one is a base the path is added to (OTLP exporter spec).
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` : undefined);
  if (!endpoint) return async () => undefined;
  const held = globalThis as { [REGISTERED]?: { forceFlush(): Promise<void> } };
  if (held[REGISTERED]) return () => held[REGISTERED]!.forceFlush();
  try {
    const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
    const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))] });
    provider.register();
    held[REGISTERED] = provider;
    log.info('tracing: exporting spans over OTLP', { endpoint });
    return () => provider.forceFlush();
  } catch (err) {
    log.warn('tracing: OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not installed; spans are not exported', { err: (err as Error).message });
    return async () => undefined;
  }
}
