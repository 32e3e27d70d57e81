import { SCOPE_NAME, errors, reply, type RouteHandler, type RouteOptions } from '../../sdk';
import type { Method, RouteGroup } from '../http/routes';
import type { AuthStore } from './auth-store';

const userId = { type: 'object', properties: { id: { type: 'string', pattern: '^usr_[a-z2-7]{1,40}$' } } };

/**
 * Admins manage users. A change reaches every kernel within a second (the auth store's change
 * crosses kernels on the event bus and drops their cached tokens).
 */
export function registerUserRoutes(group: RouteGroup, auth: AuthStore): void {
  const route = (method: Method, path: string, options: RouteOptions, handler: RouteHandler) => group.add({ method, path, options: { tags: ['kernel'], ...options }, handler });
  route('GET', '/api/users', { auth: 'admin', summary: 'Users, with their role and disabled flag' }, async () => ({ items: await auth.userRecords() }));
  route('POST', '/api/users', {
    auth: 'admin',
    body: { type: 'object', required: ['email'], additionalProperties: false, properties: {
      email: { type: 'string', format: 'email', maxLength: 320 }, password: { type: 'string', minLength: 8, maxLength: 1024 },
      name: { type: 'string', maxLength: 200 }, role: { enum: ['admin', 'user'], default: 'user' },
    } },
  }, async req => reply(201, { user: await auth.createUser(req.body) }));
  route('POST', '/api/users/:id/tokens', {
    auth: 'user', summary: 'Create an API token (yourself, or anyone as admin); with scopes it is let in only where a route declares one of them',
    body: { type: 'object', additionalProperties: false, properties: {
      name: { type: 'string', maxLength: 200 }, expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 },
      scopes: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: SCOPE_NAME.source } },
    } },
  }, async req => {
    if (req.user!.role !== 'admin' && req.user!.id !== req.params.id) throw errors.notFound(`user ${req.params.id}`);
    const t = await auth.createToken(req.params.id, { name: req.body.name, scopes: req.body.scopes, expiresInMs: req.body.expiresInDays ? req.body.expiresInDays * 86_400_000 : undefined });
    return reply(201, t);
  });
  route('PATCH', '/api/users/:id', {
    auth: 'admin', params: userId,
    summary: 'Change a user\'s role, name or disabled flag. A disabled user\'s tokens are refused on every kernel within a second and it cannot sign in; '
      + 'what it owns is kept. The last enabled admin cannot be demoted or disabled (409).',
    body: { type: 'object', additionalProperties: false, minProperties: 1, properties: {
      role: { enum: ['admin', 'user'] }, disabled: { type: 'boolean' }, name: { type: ['string', 'null'], maxLength: 200 },
    } },
  }, async req => {
    if (req.params.id === req.user!.id && (req.body.disabled === true || req.body.role === 'user')) {
      throw errors.conflict('you cannot disable or demote yourself; ask another admin');
    }
    return { user: await auth.updateUser(req.params.id, req.body) };
  });
  route('DELETE', '/api/users/:id', {
    auth: 'admin', params: userId,
    summary: 'Delete a user and its tokens. The user and all its tokens (API and session) are removed and refused on every kernel within a second. '
      + 'What it owned in plugins (sessions, jobs, runs, notes…) is kept under its id, visible to admins only; '
      + 'Disable instead to keep the account restorable. '
      + 'The last enabled admin cannot be deleted (409).',
  }, async req => {
    if (req.params.id === req.user!.id) throw errors.conflict('you cannot delete yourself; ask another admin');
    await auth.deleteUser(req.params.id);
  });
}
