import { Kernel } from '../core/kernel';
import { settingsFromEnv, type KernelSettings } from '../core/process-settings';
import { commandContext } from './command';
import { UsageError } from './output';

export const START_USAGE = `usage: plinth start [--host <host>] [--port <port>] [--data-dir <dir>] [--registry <file>]

Flags override PLINTH_HOST, PLINTH_PORT, PLINTH_DATA_DIR and PLINTH_REGISTRY.
`;

export async function startCommand(args: string[]): Promise<number> {
  const ctx = commandContext(args, { host: { type: 'string' }, port: { type: 'string' }, 'data-dir': { type: 'string' }, registry: { type: 'string' } }, START_USAGE);
  if (ctx.values.help) { ctx.out.line(START_USAGE); return 0; }
  if (ctx.positionals.length) throw new UsageError('start takes no argument', START_USAGE);
  const flagEnv: Record<string, string | undefined> = { PLINTH_HOST: ctx.values.host, PLINTH_PORT: ctx.values.port, PLINTH_DATA_DIR: ctx.values['data-dir'], PLINTH_REGISTRY: ctx.values.registry };
  for (const [k, v] of Object.entries(flagEnv)) if (v !== undefined) process.env[k] = v;
  try { settingsFromEnv(); } catch (err: any) { throw new UsageError(err.message, START_USAGE, { cause: err }); }
  return start();
}

function start(): Promise<number> {
  return serve(settingsFromEnv(), kernel => {
    process.stdout.write(`listening on ${kernel.baseUrl}\n`);
    if (kernel.generatedAdminTokenFile) process.stdout.write(`admin token written to ${kernel.generatedAdminTokenFile}\n`);
  });
}

/** Runs a kernel until SIGTERM or SIGINT (`plinth start`, `plinth dev`). */
export async function serve(settings: KernelSettings, started: (kernel: Kernel) => void): Promise<number> {
  const kernel = new Kernel({ settings, onKernelFault: 'exit' });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    kernel.log.info('shutting down', { signal });
    // A plugin's dispose or a database close that never returns must not keep a stopped kernel
    // alive (a supervisor would wait on it, a load balancer would keep it in rotation): after the
    // request drain bound and ten seconds for the rest, the process exits anyway, saying so.
    const deadlineMs = settings.drainTimeoutMs + 10_000;
    setTimeout(() => {
      kernel.log.error('shutdown did not finish in time; exiting', { signal, deadlineMs });
      process.exit(1);
    }, deadlineMs).unref();
    kernel.stop().then(() => process.exit(0), err => { console.error(err); process.exit(1); });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await kernel.start();
  started(kernel);
  return new Promise<number>(() => { /* runs until a signal */ });
}
