import { errors, reply, type RouteHandler, type RouteRequest, type RouteOptions } from '../../sdk';
import { bearerToken, cameOverTls, cookieToken, sessionCookie } from '../http/request-auth';
import type { Method, RouteGroup } from '../http/routes';
import type { WsTickets } from '../http/websocket';
import type { AuthStore } from './auth-store';
import type { LoginThrottle } from './login-throttle';

/** Signing in and out, API tokens, and WebSocket tickets. */
export function registerAuthRoutes(group: RouteGroup, deps: { auth: AuthStore; tickets: WsTickets; loginThrottle: LoginThrottle; trustProxy: string[] }): void {
  const route = (method: Method, path: string, options: RouteOptions, handler: RouteHandler) => group.add({ method, path, options: { tags: ['kernel'], ...options }, handler });
  const { auth } = deps;
  const throttle = deps.loginThrottle;
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
