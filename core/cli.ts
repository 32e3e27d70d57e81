/**
 * `plinth <command>`: a thin dispatcher. Each command lives in core/cli/ and answers an exit code:
 * 0 done, 1 failed (with what to fix), 2 wrong usage.
 */
import { CliFailure, EXIT, Output, UsageError } from './cli/output';

const USAGE = `usage: plinth <command> [--json] [--help]

commands:
  start                          start the server (PLINTH_HOST, PLINTH_PORT, PLINTH_DATA_DIR, PLINTH_REGISTRY, PLINTH_ADMIN_TOKEN)
  plugins list|enable|disable|reload <id>
                                 manage plugins on the running server (or in the registry when none runs)
  plugin new <name>              scaffold a plugin that passes its own test, added to the registry disabled
  codegen <plugin dir>           write TypeScript types for a plugin's config and tool schemas
  user add --email <e>           create a user (password by --password or --password-stdin)
  token create --user <e|id>     create an API token for a user
  doctor                         check Node, registry, manifests, database, port and model providers
  mcp                            serve the kernel's MCP endpoint over stdio (PLINTH_MCP_TOKEN acts as that user, else as the admin)

Commands that talk to a server use --url / PLINTH_URL (else the configured host and port) and
--token / PLINTH_ADMIN_TOKEN (else $PLINTH_DATA_DIR/admin-token).
`;

type Runner = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Runner> = {
  start: () => require('./cli/start').startCommand,
  mcp: () => () => require('./cli/mcp').mcpStdio(),
  plugins: () => require('./cli/plugins').pluginsCommand,
  plugin: () => require('./cli/scaffold').pluginNewCommand,
  codegen: () => codegenCommand,
  user: () => require('./cli/users').userCommand,
  users: () => require('./cli/users').userCommand,
  token: () => require('./cli/users').tokenCommand,
  tokens: () => require('./cli/users').tokenCommand,
  doctor: () => require('./cli/doctor').doctorCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? EXIT.ok : EXIT.usage;
  }
  const load = COMMANDS[command];
  const json = rest.includes('--json');
  if (!load) {
    new Output({ json }).error(new UsageError(`unknown command "${command}"`, USAGE));
    return EXIT.usage;
  }
  try {
    return await load()(rest);
  } catch (err: any) {
    const out: Output = err.out ?? new Output({ json });
    if (err instanceof UsageError) { out.error(err); return EXIT.usage; }
    if (err instanceof CliFailure) { out.error(err); return EXIT.failure; }
    throw err;
  }
}

async function codegenCommand(args: string[]): Promise<number> {
  const usage = 'usage: plinth codegen <plugin dir> [--json]\n';
  const { commandContext } = require('./cli/command') as typeof import('./cli/command');
  const ctx = commandContext(args, {}, usage);
  if (ctx.values.help) { ctx.out.line(usage); return EXIT.ok; }
  if (ctx.positionals.length !== 1) throw new UsageError('codegen needs exactly one plugin folder', usage);
  const { codegen } = require('../sdk/codegen') as typeof import('../sdk/codegen');
  let written: string[];
  try { written = await codegen(ctx.positionals[0]); } catch (err: any) { throw new CliFailure(err.message, 'the folder needs a plugin.json (and src/schemas.ts for tool types)'); }
  ctx.out.result({ ok: true, files: written });
  for (const f of written) ctx.out.line(`wrote ${f}`);
  return EXIT.ok;
}
