/**
 * Sign-in with OpenID Connect, end to end: a real OpenID Provider (oidc-provider, with its dev
 * login and consent pages) on a local port, the kernel with the oidc and dashboard plugins, and
 * real Chromium clicking "Sign in with …" on the dashboard. The refusals (a tampered state, a
 * wrong nonce, an expired code, a domain not allowed) go through the same browser flow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const ROOT = join(__dirname, '..', '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const skip = !hasChromium && 'no /usr/bin/chromium';
let k: TestKernel;
let browser: Browser;
let op: Server;
let issuer = '';
/** The provider's authorization code lifetime in seconds; a test shortens it. */
let codeTtl = 60;
/**
 * A man in the middle at the provider: the browser reaches its pages and the callback through
 * redirects, which the browser's request interception does not see, so requests and redirects
 * are rewritten here.
 */
let tamper: { request?(url: URL): void; redirect?(location: URL): URL } = {};

before(async () => {
  k = await createTestKernel({
    database: process.env.PLINTH_TEST_POSTGRES_URL ? 'postgres' : 'sqlite',
    plugins: [{ path: join(ROOT, 'plugins', 'accounts') }, { path: join(ROOT, 'plugins', 'oidc') }, { path: join(ROOT, 'plugins', 'dashboard') }],
  });
  let handler: (req: any, res: any) => void = (_req, res) => res.end();
  op = createServer((req, res) => {
    const url = new URL(req.url!, issuer);
    if (url.pathname === '/hold') {
      // Holds the browser before it goes on to the callback (an authorization code that expires).
      setTimeout(() => res.writeHead(302, { location: url.searchParams.get('to')! }).end(), 2500);
      return;
    }
    tamper.request?.(url);
    req.url = url.pathname + url.search;
    const setHeader = res.setHeader.bind(res);
    res.setHeader = (name: string, value: any) => {
      if (name.toLowerCase() === 'location' && tamper.redirect && String(value).startsWith(k.baseUrl)) value = tamper.redirect(new URL(String(value))).href;
      return setHeader(name, value);
    };
    handler(req, res);
  });
  await new Promise<void>(r => op.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(op.address() as AddressInfo).port}`;
  const { Provider } = require('oidc-provider');
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'plinth', client_secret: 'op-secret', redirect_uris: [`${k.baseUrl}/auth/google/callback`], response_types: ['code'], grant_types: ['authorization_code'] }],
    pkce: { required: () => true, methods: ['S256'] },
    features: { devInteractions: { enabled: true } },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // The dev login page takes any login: it is the account's e-mail here.
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, email: id, email_verified: true, name: `Name of ${id}` }) }),
    ttl: { AuthorizationCode: () => codeTtl },
    cookies: { keys: ['test-cookie-key'] },
  });
  handler = provider.callback();
  if (hasChromium) {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'], timeout: 15_000 });
  }
});

after(async () => {
  await browser?.close();
  await k?.stop();
  op?.close();
});

const configure = (extra: Record<string, unknown> = {}) =>
  k.request('PUT', '/api/config', { body: { plugins: { oidc: { issuer, clientId: 'plinth', clientSecret: 'op-secret', ...extra } } } });

/**
 * One sign-in in a fresh browser: the dashboard's button, the provider's login and consent pages,
 * back to the dashboard. `tamper` may rewrite requests on the way. Answers the page where it ended.
 */
async function signIn(login: string, rewrite: typeof tamper = {}): Promise<{ page: Page; close: () => Promise<void> }> {
  tamper = rewrite;
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto(`${k.baseUrl}/dashboard/`);
  await page.getByTestId('oidc-sign-in').click();
  await page.waitForURL(u => u.href.startsWith(issuer));
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  // The consent page (first grant for this account).
  await page.waitForURL(u => u.href.startsWith(k.baseUrl) || /consent|interaction/.test(u.href));
  if (page.url().startsWith(issuer)) await page.click('button[type=submit]');
  await page.waitForURL(u => u.href.startsWith(`${k.baseUrl}/dashboard/`));
  tamper = {};
  return { page, close: () => context.close() };
}

const me = (page: Page): Promise<any> => page.evaluate(() => fetch('/auth/me').then(r => r.json()));
const signInError = (page: Page) => new URL(page.url()).searchParams.get('signin_error') ?? '';

test('not configured: enabled is false and /auth/google is a JSON 404; once an admin configures it, enabled', async () => {
  assert.deepEqual((await k.request('GET', '/auth/google-enabled')).body, { enabled: false, label: 'Google' });
  const r = await k.request('GET', '/auth/google');
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'PLINTH_ERR_OIDC_DISABLED');
  const applied = await configure();
  assert.equal(applied.status, 200, applied.text);
  assert.equal((await k.request('GET', '/auth/google-enabled')).body.enabled, true);
  // The flow starts with a redirect to the provider carrying PKCE, state and nonce.
  const start = await fetch(`${k.baseUrl}/auth/google`, { redirect: 'manual' });
  assert.equal(start.status, 302);
  const to = new URL(start.headers.get('location')!);
  assert.equal(to.origin, issuer);
  assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
  for (const p of ['state', 'nonce', 'code_challenge']) assert.ok(to.searchParams.get(p), p);
  assert.match(start.headers.get('set-cookie')!, /plinth_oidc=.+HttpOnly; SameSite=Lax/);
});

test('the browser flow in Chromium: first sign-in creates a user with role user and opens the dashboard; GET /auth/logout signs out', { skip }, async () => {
  await configure();
  const { page, close } = await signIn('ann@allowed.test');
  try {
    assert.equal(signInError(page), '');
    const { user } = await me(page);
    assert.equal(user.email, 'ann@allowed.test');
    assert.equal(user.role, 'user');
    assert.equal(user.name, 'Name of ann@allowed.test');
    await page.getByText('Overview').first().waitFor();
    const users = (await k.request('GET', '/api/users')).body.items.filter((u: any) => u.email === 'ann@allowed.test');
    assert.equal(users.length, 1);
    // A second sign-in finds the same user.
    const again = await signIn('ann@allowed.test');
    assert.equal((await me(again.page)).user.id, user.id);
    await again.close();
    await page.goto(`${k.baseUrl}/auth/logout`);
    assert.equal(new URL(page.url()).pathname, '/dashboard/');
    assert.deepEqual(await me(page), { user: null });
    await page.getByTestId('login-form').waitFor();
  } finally {
    await close();
  }
});

test('a tampered state, a wrong nonce and an expired code are refused, with the reason on the sign-in page', { skip }, async () => {
  await configure();
  const before = (await k.request('GET', '/api/users')).body.items.length;
  // The state coming back is not the one sent.
  const tampered = await signIn('tess@allowed.test', { redirect: loc => { loc.searchParams.set('state', 'forged-state'); return loc; } });
  assert.match(signInError(tampered.page), /state mismatch/);
  await tampered.page.getByText(/state mismatch/).waitFor();
  assert.deepEqual(await me(tampered.page), { user: null });
  await tampered.close();

  // The provider is asked for another nonce than the one the relying party keeps.
  const wrongNonce = await signIn('nina@allowed.test', { request: url => { if (url.pathname === '/auth') url.searchParams.set('nonce', 'another-nonce'); } });
  assert.match(signInError(wrongNonce.page), /nonce mismatch/);
  assert.deepEqual(await me(wrongNonce.page), { user: null });
  await wrongNonce.close();

  // The code is held back past its lifetime before the callback redeems it.
  codeTtl = 1;
  try {
    const expired = await signIn('eve@allowed.test', { redirect: loc => new URL(`${issuer}/hold?to=${encodeURIComponent(loc.href)}`) });
    assert.match(signInError(expired.page), /invalid_grant/);
    assert.deepEqual(await me(expired.page), { user: null });
    await expired.close();
  } finally {
    codeTtl = 60;
  }
  assert.equal((await k.request('GET', '/api/users')).body.items.length, before, 'no user was created');
});

test('an admin restricts sign-in to e-mail domains: another domain is refused, an allowed one gets in', { skip }, async () => {
  await configure({ allowedDomains: ['allowed.test'] });
  const refused = await signIn('bob@elsewhere.test');
  assert.match(signInError(refused.page), /elsewhere\.test may not sign in/);
  assert.deepEqual(await me(refused.page), { user: null });
  await refused.close();
  const ok = await signIn('carl@allowed.test');
  assert.equal((await me(ok.page)).user.email, 'carl@allowed.test');
  await ok.close();
  assert.ok(!(await k.request('GET', '/api/users')).body.items.some((u: any) => u.email === 'bob@elsewhere.test'));
});

test('a callback without a flow started in this browser is refused; GET /auth/logout without a session still lands on the sign-in page', async () => {
  await configure();
  const r = await fetch(`${k.baseUrl}/auth/google/callback?code=abc&state=xyz`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.match(decodeURIComponent(r.headers.get('location')!), /signin_error=the sign-in expired or was started in another browser/);
  const out = await fetch(`${k.baseUrl}/auth/logout`, { redirect: 'manual' });
  assert.equal(out.status, 302);
  assert.equal(out.headers.get('location'), '/dashboard/');
});
