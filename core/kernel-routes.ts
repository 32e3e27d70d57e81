import type { RouteHandler, RouteOptions } from '../sdk';
import type { Method, RouteGroup } from './http/routes';
import type { RouteTable } from './http/route-table';
import { buildOpenApi } from './http/openapi';
import type { LogSink } from './log';
import type { KernelToolRegistry } from './tools';
import type { KernelConfigUpdate } from './kernel-config-update';
import { KERNEL_VERSION } from './version';

export interface KernelRouteDeps {
  tools: KernelToolRegistry;
  routeTable: RouteTable;
  logs: LogSink;
  config: KernelConfigUpdate;
  startedAt: number;
}

/** The kernel's own HTTP API — liveness, OpenAPI, tools, config, logs — registered through the same route machinery as any plugin's. */
export function registerKernelRoutes(group: RouteGroup, deps: KernelRouteDeps): void {
  const route = (method: Method, path: string, options: RouteOptions, handler: RouteHandler) => group.add({ method, path, options: { tags: ['kernel'], ...options }, handler });
  const { tools } = deps;

  route('GET', '/api/health', { auth: 'public', summary: 'Liveness' }, () => ({
    status: 'ok', uptime: Math.round((Date.now() - deps.startedAt) / 1000), version: KERNEL_VERSION,
  }));
  route('GET', '/api/openapi.json', { auth: 'public', summary: 'OpenAPI 3.1 of every registered route' }, () => buildOpenApi(deps.routeTable.allRoutes(), KERNEL_VERSION));

  route('GET', '/api/tools', { auth: 'user', summary: 'Every registered tool' }, () => ({ items: tools.list() }));

  // ---- config and logs
  route('GET', '/api/config', { auth: 'admin' }, () => deps.config.view());
  route('PUT', '/api/config', {
    auth: 'admin', summary: 'Change config; the answer says what applied live and what needs a restart',
    body: {
      type: 'object', additionalProperties: false,
      properties: {
        kernel: { type: 'object', additionalProperties: false, properties: {
          logLevel: { enum: ['debug', 'info', 'warn', 'error'] },
          host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 },
          bodyLimit: { type: 'integer', minimum: 1024 }, drainTimeoutMs: { type: 'integer', minimum: 0 }, setupTimeoutMs: { type: 'integer', minimum: 1 },
          egressAllow: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 300 } },
        } },
        plugins: { type: 'object', additionalProperties: { type: 'object' } },
      },
    },
  }, async req => deps.config.update(req.body));
  route('GET', '/api/config/status', { auth: 'admin', summary: 'The last config apply: what applied live, what needs a restart, what failed' }, () => ({ lastApply: deps.config.lastApply }));
  route('GET', '/api/config/capabilities', { auth: 'user' }, () => deps.config.capabilities());
  route('GET', '/api/logs', {
    auth: 'admin',
    query: { type: 'object', properties: { level: { enum: ['debug', 'info', 'warn', 'error'] }, plugin: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 2000, default: 200 } } },
  }, req => ({ items: deps.logs.query(req.query as any) }));
}
