import { createServiceRef } from './refs';
import type {
  AuthService, Clock, EventBus, HttpRouter, KernelInfo, Logger, StorageService, Timers, ToolPolicyService, ToolRegistry, ValidatorService, WsRegistry,
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
  validator: createServiceRef<ValidatorService>({ id: 'core.validator' }),
  kernel: createServiceRef<KernelInfo>({ id: 'core.kernel' }),
};

/**
 * Kernel-owned services that a plugin implements: the kernel consumes them, a plugin whose
 * manifest names the id under `contributes.services` provides it (one at a time), so the kernel
 * never names a plugin. Consumers need not import the provider.
 */
export const toolPolicyRef = createServiceRef<ToolPolicyService>({ id: 'core.toolPolicy' });


