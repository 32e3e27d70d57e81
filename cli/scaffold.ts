import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import semver from 'semver';
import { KERNEL_VERSION, ROOT_DIR } from '../core/version';
import { RegistryFile } from '../core/plugins/registry-file';
import { commandContext } from './command';
import { CliFailure, UsageError } from './output';

export const PLUGIN_NEW_USAGE = `usage: plinth plugin new <name> [--dir <folder>] [--no-registry] [--plinth <npm spec>]

Writes plugins/<name>/ (or --dir): plugin.json, src/index.ts, src/schemas.ts, generated types,
a test through the SDK's test kernel, and a README; adds it to plugin-registry.json, disabled.
Then: node scripts/test.js <name>   and   plinth plugins enable <name>

Outside a Plinth checkout (an installed plinth, or --dir outside the checkout) it writes a plugin
as its own package instead: package.json (plinth as peer and dev dependency, --plinth <spec> for
the latter), tsconfig.json, the same files; then: npm install && npm test, npx plinth dev,
and plinth plugins add <folder> on the deployment.
`;

const ID = /^[a-z][a-z0-9-]{0,62}$/;

/** The files of a new plugin: the smallest plugin that shows a route with auth, a tool with risk and a config schema. */
export function scaffoldFiles(id: string): Record<string, string> {
  const manifest = {
    id, version: '0.1.0', kernel: '^1.0.0', main: 'src/index.ts',
    description: `${id}: describe what it does`,
    configSchema: {
      type: 'object', additionalProperties: false,
      properties: { prefix: { type: 'string', default: 'echo: ', maxLength: 50 } },
    },
    permissions: { network: [], secrets: [] },
    contributes: { tools: [`${id}.echo`] },
  };
  return {
    'plugin.json': JSON.stringify(manifest, null, 2) + '\n',
    'src/schemas.ts': `export const EchoInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: { text: { type: 'string', minLength: 1, maxLength: 1000 } },
} as const;

export const EchoOutputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: { text: { type: 'string' } },
} as const;
`,
    'src/echo.ts': `import type { Config, EchoInput, EchoOutput } from './generated/types';

export function echo(config: Required<Config>, input: EchoInput): EchoOutput {
  return { text: config.prefix + input.text };
}
`,
    'src/index.ts': `import { definePlugin } from 'plinth/sdk';
import { echo } from './echo';
import type { Config, EchoInput } from './generated/types';
import { EchoInputSchema, EchoOutputSchema } from './schemas';

export default definePlugin<{}, Required<Config>>({
  setup({ http, tools, config, log }) {
    // Mounted at /api/${id}/echo; \`auth\` is mandatory on every route.
    http.post('/echo', { auth: 'user', summary: 'Echo a text', body: EchoInputSchema, response: EchoOutputSchema }, req =>
      echo(config, req.body as EchoInput));
    // Registered as ${id}.echo: agents, MCP clients and POST /api/plugins/${id}/execute/echo can call it.
    tools.register<EchoInput, unknown>({
      name: 'echo',
      description: 'Echoes a text back with the configured prefix',
      inputSchema: EchoInputSchema,
      outputSchema: EchoOutputSchema,
      risk: 'safe',
      run: input => echo(config, input),
    });
    log.info('${id} ready');
  },
});
`,
    [`test/${id}.test.ts`]: `import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

describe('${id}', () => {
  let k: TestKernel;
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: join(__dirname, '..'), config: { prefix: '> ' } }] });
  });
  after(() => k.stop());

  test('the route echoes for a signed-in user, refuses strangers and bad input', async () => {
    const u = await k.createUser();
    assert.deepEqual((await k.request('POST', '/api/${id}/echo', { token: u.token, body: { text: 'hi' } })).body, { text: '> hi' });
    assert.equal((await k.request('POST', '/api/${id}/echo', { token: null, body: { text: 'hi' } })).status, 401);
    assert.equal((await k.request('POST', '/api/${id}/echo', { token: u.token, body: { text: '' } })).status, 400);
  });

  test('the tool runs through the kernel registry with its input validated', async () => {
    const r = await k.request('POST', '/api/plugins/${id}/execute/echo', { body: { text: 'tool' } });
    assert.deepEqual(r.body, { tool: '${id}.echo', result: { text: '> tool' } });
    assert.equal((await k.request('POST', '/api/plugins/${id}/execute/echo', { body: {} })).status, 400);
  });
});
`,
    'README.md': `# ${id}

What it does, for whom.

## API
- \`POST /api/${id}/echo\` (user) \`{ text }\` → \`{ text }\`
- tool \`${id}.echo\` (safe)

## Config (plugin-registry.json)
- \`prefix\` (string, default \`"echo: "\`)

## Develop
\`\`\`sh
node scripts/test.js ${id}           # its tests
plinth codegen <this folder>        # after changing plugin.json or src/schemas.ts
plinth plugins enable ${id}          # then npm start; edits reload live
\`\`\`
See docs/plugin-guide.md.
`,
  };
}

/** The files that make a plugin its own npm package (written beside scaffoldFiles outside a checkout). */
export function packageFiles(id: string, plinthSpec: string): Record<string, string> {
  const major = semver.major(KERNEL_VERSION);
  const pkg = {
    name: id, version: '0.1.0', private: true, description: `${id}: a Plinth plugin`,
    main: 'src/index.ts',
    files: ['plugin.json', 'src/', 'README.md'],
    scripts: {
      // plinth/register loads TypeScript (the kernel's own hook); node's runner runs the test file.
      test: `node --require plinth/register --test test/${id}.test.ts`,
      dev: 'plinth dev',
      typecheck: 'tsc -p tsconfig.json',
    },
    peerDependencies: { plinth: `^${major}.0.0` },
    devDependencies: { plinth: plinthSpec, '@types/node': '^20.19.0' },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022', module: 'preserve', moduleResolution: 'bundler', lib: ['ES2023'], types: ['node'],
      strict: true, esModuleInterop: true, skipLibCheck: true, noEmit: true, resolveJsonModule: true,
    },
    include: ['src', 'test'],
  };
  return {
    'package.json': JSON.stringify(pkg, null, 2) + '\n',
    'tsconfig.json': JSON.stringify(tsconfig, null, 2) + '\n',
    '.gitignore': 'node_modules/\n*.tgz\n',
    'README.md': `# ${id}

What it does, for whom.

## API
- \`POST /api/${id}/echo\` (user) \`{ text }\` → \`{ text }\`
- tool \`${id}.echo\` (safe)

## Develop
\`\`\`sh
npm install
npm test                      # its test, on plinth/testing (a real kernel)
npx plinth dev                # a kernel with this plugin, hot-reloading; prints the URL and an admin token
npx plinth codegen .          # after changing plugin.json or src/schemas.ts
\`\`\`

## Install into a deployment
\`\`\`sh
plinth plugins add <this folder | its tarball | its package name>
plinth plugins enable ${id} --grant
\`\`\`
See Plinth's docs/plugin-guide.md.
`,
  };
}

/** Whether `dir` is inside a Plinth checkout (its sources beside the CLI), where plugins live in plugins/. */
function insideCheckout(dir: string): boolean {
  if (!existsSync(join(ROOT_DIR, 'cli', 'index.ts'))) return false;
  const rel = relative(ROOT_DIR, dir);
  return !rel.startsWith('..') && !isAbsolute(rel);
}

export async function pluginNewCommand(args: string[]): Promise<number> {
  const ctx = commandContext(args, { dir: { type: 'string' }, 'no-registry': { type: 'boolean' }, plinth: { type: 'string' } }, PLUGIN_NEW_USAGE);
  const { out, values, positionals } = ctx;
  if (values.help) { out.line(PLUGIN_NEW_USAGE); return 0; }
  if (positionals[0] !== 'new' || positionals.length !== 2) throw new UsageError(positionals[0] === 'new' ? 'plugin new needs exactly one name' : `unknown action "${positionals[0] ?? ''}"`, PLUGIN_NEW_USAGE);
  const id = positionals[1];
  if (!ID.test(id)) throw new UsageError(`"${id}" is not a plugin id: lowercase letters, digits and dashes, starting with a letter`, PLUGIN_NEW_USAGE);

  // Outside a checkout the plugin is its own package: no registry is read or written.
  const standalone = values.dir !== undefined ? !insideCheckout(resolve(values.dir)) : !insideCheckout(process.cwd());
  if (standalone && values.dir === undefined) throw new UsageError('outside a Plinth checkout, say where the plugin goes: --dir <folder>', PLUGIN_NEW_USAGE);
  const registry = new RegistryFile(standalone ? '' : ctx.settings().registryPath);
  const base = dirname(registry.file);
  const dir = resolve(values.dir ?? join(base, 'plugins', id));
  if (existsSync(dir) && readdirSync(dir).length) throw new CliFailure(`${dir} exists and is not empty`, 'pick another name or --dir');
  const addToRegistry = !values['no-registry'] && !standalone;
  if (addToRegistry) {
    let entries;
    try { entries = registry.read(); } catch (err: any) { throw new CliFailure(err.message, 'fix the registry first (plinth doctor)', undefined, { cause: err }); }
    if (entries.some(e => e.id === id)) throw new CliFailure(`plugin "${id}" is already in ${registry.file}`, 'pick another name');
  }

  const files = { ...scaffoldFiles(id), ...(standalone ? packageFiles(id, values.plinth ?? `^${KERNEL_VERSION}`) : {}) };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const { codegen } = require('./codegen') as typeof import('./codegen');
  const generated = await codegen(dir);
  const written = [...Object.keys(files).map(f => join(dir, f)), ...generated];

  let registryPath: string | null = null;
  if (addToRegistry) {
    const rel = relative(base, dir).split(sep).join('/');
    registryPath = rel.startsWith('..') ? dir : rel;
    registry.update(entries => { entries.push({ id, path: registryPath!, enabled: false, config: {} }); });
  }
  out.result({ ok: true, id, dir, files: written, registry: addToRegistry ? { file: registry.file, path: registryPath, enabled: false } : null });
  out.ok(`created ${id} in ${dir}`);
  for (const f of written) out.line(`  ${out.paint('dim', relative(process.cwd(), f) || f)}`);
  if (addToRegistry) out.ok(`added to ${registry.file} (disabled)`);
  if (standalone) {
    out.hint(`test it: cd ${relative(process.cwd(), dir) || '.'} && npm install && npm test`);
    out.hint('run it: npx plinth dev (in that folder); install it: plinth plugins add <folder>');
    return 0;
  }
  out.hint(`test it: node scripts/test.js ${id}`);
  out.hint(`run it: plinth plugins enable ${id}, then plinth start`);
  return 0;
}
