import { bearerToken, cookieToken, errors, reply, type AccountsService, type HttpRouter, type RouteRequest } from 'plinth/sdk';
import type { LoginThrottle } from './login-throttle';
import { LoginBody, NewTokenBody, NewUserBody, UserIdParams, UserPatchBody } from './schemas';

const SESSION_SECONDS = 7 * 24 * 3600;

/** Signing in and out, API tokens, and WebSocket tickets. */
export function registerSessionRoutes(http: HttpRouter, accounts: AccountsService, throttle: LoginThrottle): void {
  http.post('/auth/login', { auth: 'public', summary: 'Email and password → token (and a session cookie)', body: LoginBody }, async req => {
    await throttle.check(req.ip);
    let session: Awaited<ReturnType<AccountsService['login']>>;
    try {
      session = await accounts.login(req.body.email, req.body.password);
    } catch (err) {
      await throttle.failed(req.ip);
      throw err;
    }
    await throttle.succeeded(req.ip);
    const { user, token, expiresAt } = session;
    return reply(200, { token, user, expiresAt }, { headers: { 'set-cookie': accounts.sessionCookie(req.node.req, encodeURIComponent(token), SESSION_SECONDS) } });
  });
  // Public, so that a page can ask "am I signed in?" without an error: no credential answers
  // `{ user: null }`, an ambient cookie that no longer works too; a bearer token that fails is a 401.
  http.get('/auth/me', { auth: 'public', summary: 'The signed-in user, or { user: null }' }, async req => {
    const bearer = bearerToken(req.headers);
    const token = bearer ?? cookieToken(req.headers.cookie as string | undefined);
    if (!token) return { user: null };
    const resolved = await accounts.resolveToken(token);
    if (!resolved && bearer) throw errors.unauthorized('the token is invalid, expired or revoked');
    return { user: resolved?.user ?? null };
  });
  const logout = async (req: RouteRequest) => {
    const token = bearerToken(req.headers) ?? cookieToken(req.headers.cookie as string | undefined);
    const resolved = token ? await accounts.resolveToken(token) : undefined;
    if (resolved) await accounts.revokeToken(resolved.tokenId);
    return accounts.sessionCookie(req.node.req, '', 0);
  };
  http.post('/auth/logout', { auth: 'user' }, async req => reply(200, { ok: true }, { headers: { 'set-cookie': await logout(req) } }));
  // The link form (the job board's): a plain navigation, so it answers with the sign-in page.
  http.get('/auth/logout', { auth: 'public', summary: 'Sign out and go to the sign-in page' }, async req =>
    reply(302, undefined, { headers: { 'set-cookie': await logout(req), location: '/dashboard/' } }));
  // Answered here only while no plugin claims this path (plugins/oidc does): a sign-in page can always ask.
  http.get('/auth/google-enabled', { auth: 'public', summary: 'Whether sign-in with an OpenID Connect provider is available (false: no oidc plugin)' }, () => ({ enabled: false }));
  http.get('/api/tokens', { auth: 'user', summary: 'Your tokens (admins: all), never their secrets' }, async req => ({
    items: await accounts.listTokens(req.user!.role === 'admin' ? undefined : req.user!.id),
  }));
  http.delete('/api/tokens/:id', { auth: 'user' }, async req => {
    const owner = await accounts.tokenOwner(req.params.id);
    if (!owner || (req.user!.role !== 'admin' && owner !== req.user!.id)) throw errors.notFound(`token ${req.params.id}`);
    await accounts.revokeToken(req.params.id);
  });
  http.post('/api/ws/ticket', { auth: 'user', summary: 'A single-use ticket for a browser WebSocket (?ticket=)' }, req => accounts.issueWsTicket(req.user!.id));
}

/**
 * Admins manage users. A change reaches every kernel within a second (the kernel announces it
 * on the event bus, which crosses kernels, and each drops its cached tokens).
 */
export function registerUserRoutes(http: HttpRouter, accounts: AccountsService): void {
  http.get('/api/users', { auth: 'admin', summary: 'Users, with their role and disabled flag' }, async () => ({ items: await accounts.listUsers() }));
  http.post('/api/users', { auth: 'admin', body: NewUserBody }, async req => reply(201, { user: await accounts.createUser(req.body) }));
  http.post('/api/users/:id/tokens', {
    auth: 'user', summary: 'Create an API token (yourself, or anyone as admin); with scopes it is let in only where a route declares one of them', body: NewTokenBody,
  }, async req => {
    if (req.user!.role !== 'admin' && req.user!.id !== req.params.id) throw errors.notFound(`user ${req.params.id}`);
    const t = await accounts.createToken(req.params.id, { name: req.body.name, scopes: req.body.scopes, expiresInMs: req.body.expiresInDays ? req.body.expiresInDays * 86_400_000 : undefined });
    return reply(201, t);
  });
  http.patch('/api/users/:id', {
    auth: 'admin', params: UserIdParams, body: UserPatchBody,
    summary: 'Change a user\'s role, name or disabled flag. A disabled user\'s tokens are refused on every kernel within a second and it cannot sign in; '
      + 'what it owns is kept. The last enabled admin cannot be demoted or disabled (409).',
  }, async req => {
    if (req.params.id === req.user!.id && (req.body.disabled === true || req.body.role === 'user')) {
      throw errors.conflict('you cannot disable or demote yourself; ask another admin');
    }
    return { user: await accounts.updateUser(req.params.id, req.body) };
  });
  http.delete('/api/users/:id', {
    auth: 'admin', params: UserIdParams,
    summary: 'Delete a user and its tokens. The user and all its tokens (API and session) are removed and refused on every kernel within a second. '
      + 'What it owned in plugins (sessions, jobs, runs, notes…) is kept under its id, visible to admins only; '
      + 'Disable instead to keep the account restorable. '
      + 'The last enabled admin cannot be deleted (409).',
  }, async req => {
    if (req.params.id === req.user!.id) throw errors.conflict('you cannot delete yourself; ask another admin');
    await accounts.deleteUser(req.params.id);
  });
}
