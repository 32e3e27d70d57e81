/**
 * `plinth <command>`: a thin dispatcher. Each command lives in a file beside this one and answers an exit code:
 * 0 done, 1 failed (with what to fix), 2 wrong usage.
 */
import { CliFailure, EXIT, Output, UsageError } from './output';

const USAGE = `usage: plinth <command> [--json] [--help]

commands:
  start                          start the server (PLINTH_HOST, PLINTH_PORT, PLINTH_DATA_DIR, PLINTH_REGISTRY, PLINTH_ADMIN_TOKEN)
  plugins list|enable|disable|reload <id>
                                 manage plugins on the running server (or in the registry when none runs)
  plugin new <name>              scaffold a plugin that passes its own test, added to the registry disabled
  codegen <plugin dir>           write TypeScript types for a plugin's config and tool schemas
  user add --email <e>           create a user (password by --password or --password-stdin)
  token create --user <e|id>     create an API token for a user
  doctor                         check Node, registry, manifests, database, port and what plugins contribute (model providers)
  peer list|ask|ack|doctor|rehook|whoami|hook|install-hook
                                 the peer mesh: coding agents in tmux panes (\`plinth peer --help\`)
  mcp                            serve the kernel's MCP endpoint over stdio (PLINTH_MCP_TOKEN acts as that user, else as the admin)

Commands that talk to a server use --url / PLINTH_URL (else the configured host and port) and
--token / PLINTH_ADMIN_TOKEN (else $PLINTH_DATA_DIR/admin-token).
`;

type Runner = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Runner> = {
  start: () => require('./start').startCommand,
  mcp: () => () => require('./mcp').mcpStdio(),
  plugins: () => require('./plugins').pluginsCommand,
  plugin: () => require('./scaffold').pluginNewCommand,
  codegen: () => require('./codegen').codegenCommand,
  user: () => require('./users').userCommand,
  users: () => require('./users').userCommand,
  token: () => require('./users').tokenCommand,
  tokens: () => require('./users').tokenCommand,
  doctor: () => require('./doctor').doctorCommand,
  peer: () => require('./peer').peerCommand,
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
