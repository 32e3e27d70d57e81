import { PlinthError } from './errors';

/**
 * One catalogue of error codes: each code's HTTP status, what it means, and what to do about it.
 * `docs/errors.md` is generated from the catalogues (`npm run docs`), and a test fails when a
 * `PLINTH_ERR_*` code used in core/, sdk/, plugins/ or examples/ is in none of them.
 *
 * The kernel's codes live here. A plugin's own codes live in its own catalogue, in
 * `src/errors.ts` beside its code (`export const errorCodes = defineErrors('agents', {...})`), so
 * the SDK names no plugin; the docs generator merges them all into one page. A plugin reuses a
 * kernel code (`PLINTH_ERR_NOT_FOUND`, …) instead of defining its own with the same meaning; a
 * code that two catalogues define must have the same status in both.
 */
export interface ErrorSpec {
  status: number;
  /** What the code means, as a default message. */
  message: string;
  /** What the caller or the operator should do. */
  hint: string;
}

export interface ErrorOptions {
  details?: unknown;
  /** The error this one wraps; kept so logs show the whole chain. */
  cause?: unknown;
  headers?: Record<string, string>;
}

export class ErrorCatalogue<Code extends string = string> {
  constructor(readonly owner: string, readonly entries: Readonly<Record<Code, ErrorSpec>>) {}

  /** A `PlinthError` with the code's status; the message defaults to the catalogue's. */
  error(code: Code, message?: string, options: ErrorOptions = {}): PlinthError {
    const spec = this.entries[code];
    return new PlinthError(spec.status, code, message ?? spec.message, options.details, options.headers, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

export function defineErrors<Code extends `PLINTH_ERR_${string}`>(owner: string, entries: Record<Code, ErrorSpec>): ErrorCatalogue<Code> {
  return new ErrorCatalogue(owner, entries);
}

export const kernelErrors = defineErrors('kernel', {
  // Requests
  PLINTH_ERR_BAD_REQUEST: { status: 400, message: 'the request is not valid', hint: 'read the message and fix the request' },
  PLINTH_ERR_VALIDATION: { status: 400, message: 'the request does not match its schema', hint: '`details` lists each field that failed and why' },
  PLINTH_ERR_MALFORMED_JSON: { status: 400, message: 'the body or frame is not valid JSON', hint: 'send valid JSON' },
  PLINTH_ERR_EGRESS_REFUSED: { status: 403, message: 'the outbound request was refused by the egress policy', hint: 'loopback, private, link-local and metadata addresses are refused; an admin may allow a target with PLINTH_EGRESS_ALLOW' },
  PLINTH_ERR_EGRESS_UNREACHABLE: { status: 502, message: 'could not reach the target', hint: 'the same message for every cause (closed port, reset, timeout, TLS, DNS), so that it tells nothing about internal hosts' },
  PLINTH_ERR_EGRESS_TOO_LARGE: { status: 502, message: 'the response was larger than allowed', hint: 'the target answered more than the caller\'s byte limit' },
  PLINTH_ERR_SANDBOX_DENIED: { status: 403, message: 'a sandboxed plugin asked for something outside what it was granted', hint: 'a sandboxed plugin uses only its own tables and runs tools only for the user it serves; see docs/plugin-trust-model.md' },
  PLINTH_ERR_SANDBOX_UNSUPPORTED: { status: 500, message: 'this part of the SDK does not cross into a sandboxed plugin', hint: 'the message names it (services, WebSocket endpoints, req.node, token minting); run the plugin in-process ("isolation": "in-process") or do without it' },
  PLINTH_ERR_PLUGIN_TIMEOUT: { status: 504, message: 'the sandboxed plugin did not answer in time', hint: 'the plugin is busy or hung; its process is restarted when it also stops answering its heartbeat' },
  PLINTH_ERR_PLUGIN_CRASHED: { status: 502, message: 'the sandboxed plugin\'s process is not running', hint: 'it is restarted with backoff (not after 3 crashes in 5 minutes); GET /api/plugins says why it stopped' },
  PLINTH_ERR_PLUGIN_GONE: { status: 410, message: 'the handler was removed from the plugin', hint: 'retry; the plugin was reloaded meanwhile' },
  PLINTH_ERR_SANDBOX_UNAVAILABLE: { status: 503, message: 'no working process sandbox on this machine, so the program is not started', hint: 'install bubblewrap, socat and ripgrep (apt-get install bubblewrap socat ripgrep); `plinth doctor` says what fails; an admin may opt a plugin out with "sandbox": "off"' },
  PLINTH_ERR_JSON_TOO_DEEP: { status: 400, message: 'the body or frame nests JSON deeper than 64 levels', hint: 'flatten the document; no handler sees it' },
  PLINTH_ERR_TOO_MANY_CONNECTIONS: { status: 429, message: 'this user holds too many open SSE streams or WebSockets', hint: 'close one first, or raise PLINTH_MAX_SSE_PER_USER / PLINTH_MAX_WS_PER_USER' },
  PLINTH_ERR_BODY: { status: 400, message: 'the request body could not be read', hint: 'retry; check the client sends the whole body' },
  PLINTH_ERR_ABORTED: { status: 400, message: 'the client aborted the request body', hint: 'retry the request' },
  PLINTH_ERR_CONTENT_TYPE: { status: 415, message: 'the content type is not accepted here', hint: 'send `content-type: application/json` (or the type the route names)' },
  PLINTH_ERR_TOO_LARGE: { status: 413, message: 'the body is larger than this route accepts', hint: 'send less, or raise the limit the message names' },
  PLINTH_ERR_HTTP: { status: 400, message: 'the HTTP layer refused the request', hint: 'the message says what; a 4xx from Koa or a middleware' },
  PLINTH_ERR_UNPROCESSABLE: { status: 422, message: 'the request is well-formed but cannot be applied', hint: 'read the message; the current state does not allow it' },
  PLINTH_ERR_CONFLICT: { status: 409, message: 'the request conflicts with the current state', hint: 'reload the object and retry' },
  PLINTH_ERR_NOT_FOUND: { status: 404, message: 'not found', hint: 'check the id; another user\'s object also answers 404' },
  PLINTH_ERR_INTERNAL: { status: 500, message: 'internal error; the server log has the details', hint: 'look up the request in the server log (it has the stack)' },
  PLINTH_ERR_UNAVAILABLE: { status: 503, message: 'a service this needs is not available', hint: 'retry later; the message names what is missing' },
  // Auth and admission
  PLINTH_ERR_UNAUTHORIZED: { status: 401, message: 'authentication required: send a bearer token', hint: 'send `Authorization: Bearer <token>` (`plinth token create`)' },
  PLINTH_ERR_FORBIDDEN: { status: 403, message: 'not allowed for this user', hint: 'use an admin token or the owner\'s' },
  PLINTH_ERR_TOKEN_SCOPE: { status: 403, message: 'this token\'s scopes do not cover this route', hint: '`details.required` names the scope needed (null: an unscoped token); use a token that has it, or the user\'s own' },
  PLINTH_ERR_TOO_MANY_LOGINS: { status: 429, message: 'too many failed logins from this address', hint: 'wait the `retry-after` seconds' },
  PLINTH_ERR_LOOPBACK_ONLY: { status: 403, message: 'without PLINTH_ADMIN_TOKEN only loopback clients are accepted', hint: 'set PLINTH_ADMIN_TOKEN to serve other machines' },
  PLINTH_ERR_HOST: { status: 403, message: 'the Host header is not one this server answers to', hint: 'add the name to PLINTH_ALLOWED_HOSTS (DNS rebinding guard)' },
  // WebSocket
  PLINTH_ERR_BAD_FRAME: { status: 400, message: 'the WebSocket frame is not one this endpoint understands', hint: 'the message shows the expected frames' },
  PLINTH_ERR_TOO_MANY_TOPICS: { status: 400, message: 'too many topics on one connection', hint: 'unsubscribe from some, or open another connection' },
  // Tools
  PLINTH_ERR_TOOL: { status: 500, message: 'a tool definition is invalid', hint: 'a tool needs name, description, inputSchema, risk (safe, gated, blocked) and run, once' },
  PLINTH_ERR_TOOL_INPUT: { status: 400, message: 'the tool input does not match its schema', hint: '`details` lists the fields' },
  PLINTH_ERR_TOOL_DENIED: { status: 403, message: 'the tool call was denied', hint: 'an approver refused it, or the agent may not use this tool' },
  PLINTH_ERR_TOOL_BLOCKED: { status: 403, message: 'the tool is blocked', hint: 'blocked tools never run; change its risk in the plugin if that is wrong' },
  PLINTH_ERR_TOOL_GATED: { status: 403, message: 'the tool needs an approval and no approvals plugin is active', hint: 'enable the approvals plugin' },
  // Plugins: manifests, registry, loading, setup
  PLINTH_ERR_MANIFEST: { status: 400, message: 'plugin.json is invalid', hint: '`details` names the field; see docs/plugin-guide.md' },
  PLINTH_ERR_KERNEL_RANGE: { status: 400, message: 'the plugin needs another kernel version', hint: 'update the plugin or the kernel so its `kernel` range matches' },
  PLINTH_ERR_REGISTRY: { status: 500, message: 'the plugin registry file is invalid', hint: 'fix the JSON: each entry needs "id" and "path", ids once (`plinth doctor`)' },
  PLINTH_ERR_CONFIG: { status: 400, message: 'the plugin config does not match its configSchema', hint: '`details` names the field' },
  PLINTH_ERR_CONFIG_REJECTED: { status: 422, message: 'the new config was not applied: the plugin failed to set up with it', hint: 'the old config keeps running; the message has the setup error' },
  PLINTH_ERR_DEPENDENCY: { status: 500, message: 'a dependency of the plugin is missing or not active', hint: 'enable the plugin it depends on, or disable this one' },
  PLINTH_ERR_DEPENDENCY_CYCLE: { status: 500, message: 'plugins depend on each other in a cycle', hint: 'break the cycle in dependsOn' },
  PLINTH_ERR_PLUGIN_LOAD: { status: 500, message: 'the plugin entry could not be loaded', hint: 'the server log has the stack: a syntax error or a failing import' },
  PLINTH_ERR_PLUGIN_ENTRY: { status: 500, message: 'the plugin entry must default-export definePlugin({...})', hint: 'export default definePlugin({ ... }) from the file `main` names' },
  PLINTH_ERR_PLUGIN_SETUP: { status: 500, message: 'the plugin\'s setup failed', hint: 'the server log has the stack (`plugin setup failed`)' },
  PLINTH_ERR_SETUP_TIMEOUT: { status: 500, message: 'the plugin\'s setup did not finish in time', hint: 'make setup return sooner (start slow work in the background), or raise PLINTH_SETUP_TIMEOUT_MS / setupTimeoutMs' },
  PLINTH_ERR_PROVIDES: { status: 500, message: 'the plugin provides a service it did not declare, or not one it did', hint: 'provide exactly the refs named in `provides`, named "<plugin id>.<name>"' },
  PLINTH_ERR_PLUGIN: { status: 500, message: 'the plugin failed', hint: 'the server log has the stack' },
  PLINTH_ERR_PLUGIN_FAULT: { status: 500, message: 'the plugin faulted while serving and was taken out of service', hint: 'the server log has the stack; fix the plugin and reload or enable it' },
  PLINTH_ERR_GRANT_REQUIRED: { status: 403, message: 'the plugin asks for permissions an admin has not granted', hint: '`details.ungranted` lists them; grant with `plinth plugins enable <id> --grant` or POST /api/plugins/<id>/grant' },
  PLINTH_ERR_PLUGIN_INSTALL: { status: 400, message: 'the plugin package could not be installed', hint: 'the message says which step failed (fetch, unpack, manifest, npm install)' },
  PLINTH_ERR_PLUGIN_NOT_INSTALLED: { status: 409, message: 'only plugins installed as packages can be removed or granted', hint: 'first-party and checkout plugins are disabled instead (`plinth plugins disable <id>`)' },
  PLINTH_ERR_DEPENDS_MISMATCH: { status: 500, message: 'plugin.json dependsOn/optionalDependsOn and the refs in `deps` disagree', hint: 'list each provider of a required ref in dependsOn and of an optional ref in optionalDependsOn, and nothing else' },
  // Routes and schemas a plugin registers
  PLINTH_ERR_ROUTE_AUTH: { status: 500, message: 'a route or WebSocket must declare its auth (and a well-formed scope, if any)', hint: 'add auth: public, user, admin (or webhook for routes); a scope is a lowercase name such as device' },
  PLINTH_ERR_ROUTE_DUPLICATE: { status: 500, message: 'a route is registered twice', hint: 'register each method and path once' },
  PLINTH_ERR_ROUTE_CLAIM: { status: 409, message: 'the path is already claimed by another plugin', hint: 'pick another prefix in contributes.routes / contributes.ws' },
  PLINTH_ERR_WS_DUPLICATE: { status: 500, message: 'a WebSocket path is registered twice', hint: 'register each path once' },
  PLINTH_ERR_METRIC_NAME: { status: 500, message: 'a contributed metric is not named in its plugin\'s namespace', hint: 'name it plinth_<plugin id> or plinth_<plugin id>_… in snake case' },
  PLINTH_ERR_SCHEMA: { status: 500, message: 'a registered schema is not valid JSON Schema', hint: 'fix the schema; the message has Ajv\'s reason' },
});

export type KernelErrorCode = keyof typeof kernelErrors.entries;

const k = kernelErrors;
/** Shorthands for the codes plugins throw most. */
export const errors = {
  badRequest: (message: string, details?: unknown) => k.error('PLINTH_ERR_BAD_REQUEST', message, { details }),
  validation: (message: string, details?: unknown) => k.error('PLINTH_ERR_VALIDATION', message, { details }),
  unauthorized: (message?: string) => k.error('PLINTH_ERR_UNAUTHORIZED', message),
  forbidden: (message: string) => k.error('PLINTH_ERR_FORBIDDEN', message),
  notFound: (what: string) => k.error('PLINTH_ERR_NOT_FOUND', `${what} not found`),
  conflict: (message: string, details?: unknown) => k.error('PLINTH_ERR_CONFLICT', message, { details }),
  unprocessable: (message: string, details?: unknown) => k.error('PLINTH_ERR_UNPROCESSABLE', message, { details }),
  unavailable: (message: string) => k.error('PLINTH_ERR_UNAVAILABLE', message),
};
