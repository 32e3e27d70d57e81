import { parseArgs } from 'node:util';
import { Kernel } from './kernel';
import { settingsFromEnv } from './settings';

const USAGE = `usage: plinth <command>

commands:
  start               start the server (PLINTH_HOST, PLINTH_PORT, PLINTH_DATA_DIR, PLINTH_REGISTRY, PLINTH_ADMIN_TOKEN)
  codegen <plugin>    write TypeScript types for a plugin's config and tool schemas
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start();
    case 'codegen': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      if (positionals.length !== 1) { process.stderr.write('usage: plinth codegen <plugin dir>\n'); return 2; }
      const { codegen } = require('../sdk/codegen') as typeof import('../sdk/codegen');
      const written = await codegen(positionals[0]);
      for (const f of written) process.stdout.write(`wrote ${f}\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command ? 0 : 2;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

async function start(): Promise<number> {
  const kernel = new Kernel({ settings: settingsFromEnv() });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    kernel.log.info('shutting down', { signal });
    kernel.stop().then(() => process.exit(0), err => { console.error(err); process.exit(1); });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await kernel.start();
  process.stdout.write(`listening on ${kernel.baseUrl}\n`);
  if (kernel.generatedAdminTokenFile) process.stdout.write(`admin token written to ${kernel.generatedAdminTokenFile}\n`);
  return new Promise<number>(() => { /* runs until a signal */ });
}
