import { errors, kernelErrors, reply, type RouteHandler, type RouteRequest, type RouteOptions } from '../sdk';
import type { AuthStore } from './auth/auth-store';
import type { LoginThrottle } from './auth/login-throttle';
import { isJsonType, parseJson } from './http/body';
import { bearerToken, cameOverTls, cookieToken, sessionCookie } from './http/request-auth';
import type { Method, RouteGroup } from './http/routes';
import type { RouteTable } from './http/route-table';
import { buildOpenApi } from './http/openapi';
import type { WsTickets } from './http/websocket';
import type { LogSink } from './log';
import { manifestHash, requestedPermissions, ungranted } from './plugins/grants';
import { readManifest } from './plugins/manifest';
import type { PackageInput } from './plugins/package-install';
import type { PluginHost, PluginState } from './plugins/plugin-host';
import type { KernelToolRegistry } from './tools';
import type { KernelConfigUpdate } from './kernel-config-update';
import { KERNEL_VERSION } from './version';

export interface KernelRouteDeps {
  host: PluginHost;
  tools: KernelToolRegistry;
  routeTable: RouteTable;
  auth: AuthStore;
  tickets: WsTickets;
  logs: LogSink;
  config: KernelConfigUpdate;
  startedAt: number;
  dialect: string;
  /** Proxies whose X-Forwarded-Proto counts (PLINTH_TRUST_PROXY). */
  trustProxy: string[];
  loginThrottle: LoginThrottle;
}

const idParam = { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } } };

function pluginSummary(s: PluginState, tools: KernelToolRegistry) {
  return {
    id: s.id,
    version: s.manifest?.version ?? null,
    description: s.manifest?.description ?? null,
    path: s.entry.path,
    status: s.status,
    error: s.error ?? null,
    generation: s.active?.number ?? null,
    dependencies: { required: s.manifest?.dependsOn ?? [], optional: s.manifest?.optionalDependsOn ?? [] },
    counts: { routes: s.active?.routes.routes.length ?? 0, tools: tools.countFor(s.id), ws: s.active?.wsEndpoints.size ?? 0 },
    lastReload: s.lastReload ?? null,
    ...installedSummary(s),
  };
}

/** For plugins installed as packages: where from, what its manifest on disk asks, what is granted and what is not. */
function installedSummary(s: PluginState) {
  let requested: Record<string, unknown> | null = null;
  let hash: string | null = null;
  try {
    requested = requestedPermissions(readManifest(s.dir, s.id));
    hash = manifestHash(s.dir);
  } catch { /* the manifest's error is the plugin's error */ }
  return {
    isolation: s.entry.isolation ?? 'in-process',
    source: s.entry.source ?? null,
    grants: s.entry.grants ?? null,
    permissions: { requested, manifestHash: hash, ungranted: s.entry.source && requested ? ungranted(requested, s.entry.grants?.permissions) : {} },
  };
}

const TARBALL_TYPES = /^application\/(gzip|x-gzip|x-tar|x-compressed-tar|octet-stream)\b/i;

/** The body of POST /api/plugins: a tarball's bytes, or a registry spec as JSON. */
function packageInput(req: RouteRequest): PackageInput {
  const type = req.headers['content-type'] as string | undefined;
  if (!req.rawBody?.length) throw errors.validation('send a plugin tarball (content-type application/gzip) or {"package": "<name>@<version>"}');
  if (type && TARBALL_TYPES.test(type)) return { tarball: req.rawBody };
  if (!isJsonType(type)) throw kernelErrors.error('PLINTH_ERR_CONTENT_TYPE', `expected application/gzip (a tarball) or application/json, got "${type || 'none'}"`);
  const body = parseJson(req.rawBody) as { package?: unknown } | null;
  const keys = body && typeof body === 'object' ? Object.keys(body) : [];
  if (typeof body?.package !== 'string' || keys.length !== 1) throw errors.validation('the JSON body is {"package": "<name>@<version>"}', [{ path: '/package', message: 'a package name from the npm registry' }]);
  return { npm: body.package };
}

/** The kernel's own HTTP API, registered through the same route machinery as any plugin's. */
export function registerKernelRoutes(group: RouteGroup, deps: KernelRouteDeps): void {
  const route = (method: Method, path: string, options: RouteOptions, handler: RouteHandler) => group.add({ method, path, options: { tags: ['kernel'], ...options }, handler });
  const { host, tools, auth } = deps;
  const throttle = deps.loginThrottle;

  route('GET', '/api/health', { auth: 'public', summary: 'Liveness' }, () => ({
    status: 'ok', uptime: Math.round((Date.now() - deps.startedAt) / 1000), version: KERNEL_VERSION,
  }));
  route('GET', '/api/openapi.json', { auth: 'public', summary: 'OpenAPI 3.1 of every registered route' }, () => buildOpenApi(deps.routeTable.allRoutes(), KERNEL_VERSION));

  // ---- plugins
  route('GET', '/api/plugins', { auth: 'user', summary: 'Plugins and their status' }, () => ({ items: host.list().map(s => pluginSummary(s, tools)) }));
  route('GET', '/api/plugins/:id', { auth: 'user', params: idParam }, req => {
    const s = host.lookup(req.params.id);
    return {
      ...pluginSummary(s, tools),
      manifest: s.manifest ?? null,
      routes: s.active?.routes.routes.map(r => ({ method: r.method, path: r.path, auth: r.options.auth, summary: r.options.summary })) ?? [],
      tools: tools.list().filter(t => t.plugin === s.id),
      ws: [...(s.active?.wsEndpoints.keys() ?? [])],
    };
  });
  route('POST', '/api/plugins/:id/reload', { auth: 'admin', params: idParam, summary: 'Reload a plugin as a transaction' }, async req => {
    const s = await host.reload(req.params.id);
    return pluginSummary(s, tools);
  });
  route('PUT', '/api/plugins/:id/toggle', {
    auth: 'admin', params: idParam, summary: 'Enable or disable a plugin (flips when enabled is omitted)',
    body: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
  }, async req => {
    const s = host.lookup(req.params.id);
    const enabled = typeof req.body?.enabled === 'boolean' ? req.body.enabled : s.status === 'disabled';
    return pluginSummary(await host.setEnabled(s.id, enabled), tools);
  });
  route('POST', '/api/plugins/:id/grant', {
    auth: 'admin', params: idParam,
    summary: 'Grant a plugin installed as a package what its manifest asks (send the manifestHash you showed), and serve that version',
    body: { type: 'object', additionalProperties: false, properties: { manifestHash: { type: 'string', pattern: '^[0-9a-f]{64}$' }, enable: { type: 'boolean', default: true } } },
  }, async req => pluginSummary(await host.grant(req.params.id, { expectedHash: req.body?.manifestHash, enable: req.body?.enable }), tools));
  route('POST', '/api/plugins', {
    auth: 'admin', rawBody: true, bodyLimit: 64 << 20,
    summary: 'Install or upgrade a plugin package (plinth plugins add): a .tgz as application/gzip, or {"package": "<name>@<version>"} from the npm registry. A new plugin is added disabled; an upgrade of one in service is hot-reloaded unless it asks for more than was granted',
  }, async req => {
    const { installed, state, heldBack } = await host.install(packageInput(req));
    const { id, manifest, previousVersion, requested } = installed;
    return reply(previousVersion === null ? 201 : 200, { installed: { id, version: manifest.version, previousVersion, requested, ungranted: installed.ungranted, heldBack }, plugin: pluginSummary(state, tools) });
  });
  route('DELETE', '/api/plugins/:id', { auth: 'admin', params: idParam, summary: 'Remove a plugin installed as a package (files included)' }, async req => host.remove(req.params.id));
  route('POST', '/api/plugins/:id/execute/:tool', {
    auth: 'user', summary: 'Run a tool of this plugin',
    params: { type: 'object', properties: { id: idParam.properties.id, tool: { type: 'string', minLength: 1, maxLength: 200 } } },
  }, async req => {
    const name = req.params.tool.startsWith(`${req.params.id}.`) ? req.params.tool : `${req.params.id}.${req.params.tool}`;
    const info = tools.get(name);
    if (!info || info.plugin !== req.params.id) throw errors.notFound(`tool ${name}`);
    const result = await tools.execute(name, req.body ?? {}, { user: req.user!, via: 'api', signal: req.signal });
    return { tool: name, result: result ?? null };
  });
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
  route('GET', '/api/runtime/surfaces', { auth: 'user', summary: 'Every way in (HTTP, WebSocket, channels, MCP, A2A, OpenAI/Anthropic APIs) and whether it is up' }, () => ({
    items: runtimeSurfaces(host),
    nextCursor: null,
  }));
  route('GET', '/api/config/capabilities', { auth: 'user' }, () => deps.config.capabilities());
  route('GET', '/api/logs', {
    auth: 'admin',
    query: { type: 'object', properties: { level: { enum: ['debug', 'info', 'warn', 'error'] }, plugin: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 2000, default: 200 } } },
  }, req => ({ items: deps.logs.query(req.query as any) }));

  // ---- auth
  route('POST', '/auth/login', {
    auth: 'public', summary: 'Email and password → token (and a session cookie)',
    body: { type: 'object', required: ['email', 'password'], additionalProperties: false, properties: { email: { type: 'string', minLength: 3, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: 1024 } } },
  }, async req => {
    await throttle.check(req.ip);
    let session: Awaited<ReturnType<AuthStore['login']>>;
    try {
      session = await auth.login(req.body.email, req.body.password);
    } catch (err) {
      await throttle.failed(req.ip);
      throw err;
    }
    await throttle.succeeded(req.ip);
    const { user, token, expiresAt } = session;
    return reply(200, { token, user, expiresAt }, {
      headers: { 'set-cookie': sessionCookie(encodeURIComponent(token), 7 * 24 * 3600, cameOverTls(req.node.req, deps.trustProxy)) },
    });
  });
  // Public, so that a page can ask "am I signed in?" without an error: no credential answers
  // `{ user: null }`, an ambient cookie that no longer works too; a bearer token that fails is a 401.
  route('GET', '/auth/me', { auth: 'public', summary: 'The signed-in user, or { user: null }' }, async req => {
    const bearer = bearerToken(req.headers);
    const token = bearer ?? cookieToken(req.headers.cookie as string | undefined);
    if (!token) return { user: null };
    const resolved = await auth.resolveToken(token);
    if (!resolved && bearer) throw errors.unauthorized('the token is invalid, expired or revoked');
    return { user: resolved?.user ?? null };
  });
  const logout = async (req: RouteRequest) => {
    const token = bearerToken(req.headers) ?? cookieToken(req.headers.cookie as string | undefined);
    const resolved = token ? await auth.resolveToken(token) : undefined;
    if (resolved) await auth.revokeToken(resolved.tokenId);
    return sessionCookie('', 0, cameOverTls(req.node.req, deps.trustProxy));
  };
  route('POST', '/auth/logout', { auth: 'user' }, async req => reply(200, { ok: true }, { headers: { 'set-cookie': await logout(req) } }));
  // The link form (the job board's): a plain navigation, so it answers with the sign-in page.
  route('GET', '/auth/logout', { auth: 'public', summary: 'Sign out and go to the sign-in page' }, async req =>
    reply(302, undefined, { headers: { 'set-cookie': await logout(req), location: '/dashboard/' } }));
  // Served here only while no plugin claims this lent path (plugins/oidc does): a sign-in page can always ask.
  route('GET', '/auth/google-enabled', { auth: 'public', summary: 'Whether sign-in with an OpenID Connect provider is available (false: no oidc plugin)' }, () => ({ enabled: false }));
  route('GET', '/api/users', { auth: 'admin', summary: 'Users, with their role and disabled flag' }, async () => ({ items: await auth.userRecords() }));
  route('POST', '/api/users', {
    auth: 'admin',
    body: { type: 'object', required: ['email'], additionalProperties: false, properties: {
      email: { type: 'string', format: 'email', maxLength: 320 }, password: { type: 'string', minLength: 8, maxLength: 1024 },
      name: { type: 'string', maxLength: 200 }, role: { enum: ['admin', 'user'], default: 'user' },
    } },
  }, async req => reply(201, { user: await auth.createUser(req.body) }));
  route('POST', '/api/users/:id/tokens', {
    auth: 'user', summary: 'Create an API token (yourself, or anyone as admin)',
    body: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', maxLength: 200 }, expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 } } },
  }, async req => {
    if (req.user!.role !== 'admin' && req.user!.id !== req.params.id) throw errors.notFound(`user ${req.params.id}`);
    const t = await auth.createToken(req.params.id, { name: req.body.name, expiresInMs: req.body.expiresInDays ? req.body.expiresInDays * 86_400_000 : undefined });
    return reply(201, t);
  });
  route('GET', '/api/tokens', { auth: 'user', summary: 'Your tokens (admins: all), never their secrets' }, async req => ({
    items: await auth.listTokens(req.user!.role === 'admin' ? undefined : req.user!.id),
  }));
  route('DELETE', '/api/tokens/:id', { auth: 'user' }, async req => {
    const owner = await auth.tokenOwner(req.params.id);
    if (!owner || (req.user!.role !== 'admin' && owner !== req.user!.id)) throw errors.notFound(`token ${req.params.id}`);
    await auth.revokeToken(req.params.id);
  });
  route('POST', '/api/ws/ticket', { auth: 'user', summary: 'A single-use ticket for a browser WebSocket (?ticket=)' }, req => deps.tickets.issue(req.user!.id));
}

/** The ways in: the kernel's own, and each plugin that opens one, with its plugin's status. */
const SURFACES: Array<{ surface: string; kind: string; plugin: string; paths: string[] }> = [
  { surface: 'channels', kind: 'channels', plugin: 'channels', paths: ['/api/channels'] },
  { surface: 'telegram', kind: 'channel', plugin: 'telegram', paths: ['/api/webhooks/telegram'] },
  { surface: 'whatsapp', kind: 'channel', plugin: 'whatsapp', paths: ['/api/webhooks/whatsapp'] },
  { surface: 'mcp', kind: 'mcp', plugin: 'mcp', paths: ['/mcp'] },
  { surface: 'a2a', kind: 'a2a', plugin: 'a2a', paths: ['/a2a', '/.well-known/agent-card.json'] },
  { surface: 'openai-api', kind: 'http', plugin: 'openai-api', paths: ['/v1/chat/completions'] },
  { surface: 'anthropic-api', kind: 'http', plugin: 'anthropic-api', paths: ['/anthropic/v1/messages'] },
  { surface: 'dashboard', kind: 'http', plugin: 'dashboard', paths: ['/dashboard'] },
];

function runtimeSurfaces(host: PluginHost) {
  const kernel = [
    { surface: 'http', kind: 'http', plugin: null, paths: ['/api'], status: 'up' },
    { surface: 'websocket', kind: 'ws', plugin: null, paths: ['/ws'], status: 'up' },
  ];
  const plugins = SURFACES.map(s => {
    const state = host.plugins.get(s.plugin);
    return { ...s, status: !state ? 'absent' : state.status === 'active' ? 'up' : state.status };
  });
  return [...kernel, ...plugins];
}
