import { createServiceRef } from './refs';
import type {
  ApprovalGate, AuthService, Clock, EventBus, HttpRouter, KernelInfo, Logger, StorageService, Timers, ToolRegistry, WsRegistry,
} from './types';

/**
 * Kernel services as refs, for plugins that prefer naming them in `deps`
 * (`deps: { db: coreServices.storage }`); the same objects are on the setup context.
 */
export const coreServices = {
  logger: createServiceRef<Logger>({ id: 'core.logger' }),
  config: createServiceRef<Record<string, unknown>>({ id: 'core.config' }),
  http: createServiceRef<HttpRouter>({ id: 'core.http' }),
  ws: createServiceRef<WsRegistry>({ id: 'core.ws' }),
  events: createServiceRef<EventBus>({ id: 'core.events' }),
  tools: createServiceRef<ToolRegistry>({ id: 'core.tools' }),
  storage: createServiceRef<StorageService>({ id: 'core.storage' }),
  auth: createServiceRef<AuthService>({ id: 'core.auth' }),
  clock: createServiceRef<Clock>({ id: 'core.clock' }),
  timers: createServiceRef<Timers>({ id: 'core.timers' }),
  kernel: createServiceRef<KernelInfo>({ id: 'core.kernel' }),
};

/**
 * Refs of services that first-party plugins provide and the kernel or other plugins consume.
 * They live in the SDK (not in the plugin) so that consumers need not import the provider.
 */
export const approvalGateRef = createServiceRef<ApprovalGate>({ id: 'approvals.gate' });
