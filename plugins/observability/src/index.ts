import { definePlugin, kernelStatsRef, requestObserverRef } from 'plinth/sdk';
import { KernelMetrics } from './metrics';
import { registerRoutes } from './routes';
import { startTracing } from './tracing';

interface Config { metricsToken?: string }

/**
 * What a deployment (a cluster above all) needs to be watched: `GET /metrics` for Prometheus, fed by
 * the kernel's request observer and figures, OpenTelemetry traces exported over OTLP when configured,
 * and which ways in are up (`GET /api/runtime/surfaces`).
 */
export default definePlugin<{ stats: typeof kernelStatsRef }, Config>({
  deps: { stats: kernelStatsRef },
  provides: [requestObserverRef],
  setup({ stats, http, auth, kernel, log, config, secrets, onDispose, provide }) {
    const metrics = new KernelMetrics(stats, kernel.nodeId, log);
    registerRoutes(http, { metrics, stats, auth, token: config.metricsToken ?? secrets.PLINTH_METRICS_TOKEN });
    onDispose(startTracing(log, secrets));
    provide(requestObserverRef, metrics);
  },
});
