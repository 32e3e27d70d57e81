import { errors, kernelErrors, reply, type RouteHandler, type RouteRequest, type RouteOptions } from '../../sdk';
import { isJsonType, parseJson } from '../http/body';
import type { Method, RouteGroup } from '../http/routes';
import type { KernelToolRegistry } from '../tools';
import { manifestHash, requestedPermissions, ungranted } from './grants';
import { readManifest } from './manifest';
import type { PackageInput } from './package-install';
import type { PluginHost, PluginState } from './plugin-host';

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

/** The plugins' admin API: list, inspect, reload, enable or disable, grant, remove, and run a plugin's tool. */
export function registerPluginRoutes(group: RouteGroup, deps: { host: PluginHost; tools: KernelToolRegistry }): void {
  const route = (method: Method, path: string, options: RouteOptions, handler: RouteHandler) => group.add({ method, path, options: { tags: ['kernel'], ...options }, handler });
  const { host, tools } = deps;
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
}
