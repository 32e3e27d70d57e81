import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, waitFor, type TestKernel } from 'plinth/testing';
import { startSite, type TestSite } from './pages';

const BROWSER = join(__dirname, '..');
const AGENTS = join(__dirname, '..', '..', 'agents');
const APPROVALS = join(__dirname, '..', '..', 'approvals');
const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && 'no /usr/bin/chromium';
const dialects = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] as const : ['sqlite'] as const;
const PNG = '89504e470d0a1a0a';

for (const database of dialects) describe(`browser: real Chromium against local pages (${database})`, { skip }, () => {
  let k: TestKernel;
  let site: TestSite;
  let other: TestSite;
  let alice: { token: string; user: { id: string } };
  let bob: { token: string };
  before(async () => {
    other = await startSite();
    site = await startSite(other.base);
    // Only the site's port is allowlisted: `other` is 127.0.0.1 too, on another port.
    k = await createTestKernel({
      database, egressAllow: [`127.0.0.1:${site.port}`],
      plugins: [{ path: APPROVALS }, { path: AGENTS }, { path: BROWSER, config: { pagesPerSession: 3, navigationTimeoutMs: 3000, actionTimeoutMs: 2000 } }],
    });
    alice = await k.createUser() as any;
    bob = await k.createUser() as any;
  });
  after(async () => { await k.stop(); await site.close(); await other.close(); });

  const act = (body: Record<string, unknown>, token = alice.token) => k.request('POST', '/api/browser/action', { token, body });

  test('start, limits, navigate, follow a link, fill and send a form, read, scroll, wait_for, screenshot', async () => {
    assert.equal((await act({ action: 'navigate', url: site.base })).body.error.code, 'PLINTH_ERR_BROWSER_NOT_STARTED');
    const started = await k.request('POST', '/api/browser/start', { token: alice.token });
    assert.equal(started.status, 201, started.text);
    const again = await k.request('POST', '/api/browser/start', { token: alice.token });
    assert.deepEqual([again.status, again.body.error.code], [429, 'PLINTH_ERR_BROWSER_LIMIT']);

    const home = await act({ action: 'navigate', url: `${site.base}/` });
    assert.equal(home.status, 200, home.text);
    assert.deepEqual([home.body.url, home.body.title, home.body.result], [`${site.base}/`, 'Home', { status: 200 }]);
    const text = await act({ action: 'extract_text' });
    assert.equal(text.body.result.text, 'Welcome\n\nPlinth test site.\n\nForm\n\nbottom');
    const scrolled = await act({ action: 'scroll', y: 1500 });
    assert.ok(scrolled.body.result.scrollY > 0, scrolled.text);
    assert.equal((await act({ action: 'click', selector: 'text=Form' })).body.title, 'Form');
    assert.equal((await act({ action: 'type', selector: '#name', text: 'Ada' })).body.result.typed, 3);
    assert.deepEqual((await act({ action: 'select', selector: '#color', values: ['blue'] })).body.result.selected, ['blue']);
    const sent = await act({ action: 'press', selector: '#name', key: 'Enter' });
    assert.deepEqual([sent.body.url, sent.body.title], [`${site.base}/submit`, 'Thanks']);
    assert.equal((await act({ action: 'extract_text', selector: '#thanks' })).body.result.text, 'Thanks, Ada! You chose blue.');
    assert.ok(site.hits.includes('POST /submit'));
    // A cookie set through the kernel's fetch is the page's: it goes back on the next request.
    assert.equal((await act({ action: 'navigate', url: `${site.base}/cookie` })).status, 200);
    assert.equal((await act({ action: 'extract_text', selector: '#c' })).body.result.text, 'seen=1');

    await act({ action: 'navigate', url: `${site.base}/` });
    const late = await act({ action: 'wait_for', selector: '#bottom' });
    assert.deepEqual(late.body.result, { found: true });
    const missing = await act({ action: 'click', selector: '#nothing-here', timeout_ms: 300 });
    assert.deepEqual([missing.status, missing.body.error.code], [504, 'PLINTH_ERR_BROWSER_TIMEOUT']);
    const bad = await act({ action: 'type', selector: 'h1', text: 'x' });
    assert.deepEqual([bad.status, bad.body.error.code], [422, 'PLINTH_ERR_BROWSER_ACTION']);
    assert.equal((await act({ action: 'click' })).body.error.code, 'PLINTH_ERR_VALIDATION');
    assert.equal((await act({ action: 'fly' })).status, 400);

    const shot = await act({ action: 'screenshot' });
    assert.equal(shot.status, 200, shot.text);
    const href = shot.body.result.screenshot.href;
    const png = await fetch(`${k.baseUrl}${href}`, { headers: { authorization: `Bearer ${alice.token}` } });
    assert.equal(png.headers.get('content-type'), 'image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    assert.equal(bytes.subarray(0, 8).toString('hex'), PNG);
    assert.equal(bytes.length, shot.body.result.screenshot.size);
    assert.equal((await k.request('GET', href, { token: bob.token })).status, 404, 'another user does not see it');
  });

  test('a slow page loads; a page that never loads times out and the browser still works', async () => {
    const slow = await act({ action: 'navigate', url: `${site.base}/slow` });
    assert.equal(slow.body.title, 'Slow', slow.text);
    const never = await act({ action: 'navigate', url: `${site.base}/never`, timeout_ms: 800 });
    assert.deepEqual([never.status, never.body.error.code], [504, 'PLINTH_ERR_BROWSER_TIMEOUT']);
    assert.equal((await act({ action: 'navigate', url: `${site.base}/` })).body.title, 'Home');
  });

  test('popups count against pagesPerSession: past it they are closed', async () => {
    await act({ action: 'navigate', url: `${site.base}/popups` });
    const status = await waitFor(async () => {
      const s = (await k.request('GET', '/api/browser/status', { token: alice.token })).body;
      return s.sessions[0].pages.length === 3 && site.hits.filter(h => h.includes('popup=')).length >= 2 ? s : undefined;
    }, 'popups opened', 5000);
    assert.equal(status.sessions[0].pages.length, 3);
    assert.ok(status.sessions[0].memoryMb > 0);
    const second = await act({ action: 'extract_text', page: 1 });
    assert.equal(second.body.title, 'Home');
    assert.equal((await act({ action: 'extract_text', page: 3 })).status, 404);
    await act({ action: 'navigate', page: 0, url: `${site.base}/` });
  });

  test('egress: 127.0.0.1 on another port is refused — directly, by redirect, as a subresource; WebSockets are closed', async () => {
    const direct = await act({ action: 'navigate', url: `${other.base}/` });
    assert.deepEqual([direct.status, direct.body.error.code], [403, 'PLINTH_ERR_EGRESS_REFUSED']);
    const redirected = await act({ action: 'navigate', url: `${site.base}/redirect-away` });
    assert.deepEqual([redirected.status, redirected.body.error.code], [403, 'PLINTH_ERR_EGRESS_REFUSED'], redirected.text);
    assert.match(redirected.body.error.message, /127\.0\.0\.1/);
    const image = await act({ action: 'navigate', url: `${site.base}/image-away` });
    assert.equal(image.body.title, 'Image', `the page loads, its image from elsewhere does not: ${image.text}`);
    assert.deepEqual(other.hits, [], 'nothing reached the other server');
    assert.ok(site.hits.includes('GET /redirect-away') && site.hits.includes('GET /image-away'), 'the same requests to the allowlisted port went through');
    await act({ action: 'navigate', url: `${site.base}/ws` });
    await waitFor(async () => (await act({ action: 'extract_text' })).body.title === 'closed', 'the WebSocket closed');
    assert.equal((await act({ action: 'navigate', url: 'file:///etc/passwd' })).body.error.code, 'PLINTH_ERR_VALIDATION');
  });

  test('evaluate is for admins; another user\'s session is not found', async () => {
    const refused = await act({ action: 'evaluate', expression: '1 + 1' });
    assert.deepEqual([refused.status, refused.body.error.code], [403, 'PLINTH_ERR_FORBIDDEN']);
    const mine = (await k.request('GET', '/api/browser/status', { token: alice.token })).body.sessions[0].id;
    assert.equal((await act({ action: 'extract_text', session: mine }, bob.token)).status, 404);
    assert.equal((await k.request('POST', '/api/browser/start', { token: bob.token })).status, 201);
    await act({ action: 'navigate', url: `${site.base}/` });
    const admin = await k.request('POST', '/api/browser/action', { body: { action: 'evaluate', session: mine, expression: 'document.title + "!"' } });
    assert.deepEqual([admin.status, admin.body.result], [200, 'Home!']);
    assert.equal((await k.request('POST', '/api/browser/stop', { token: bob.token, body: {} })).status, 200);
  });

  test('an agent on the builtin model navigates, reads, fills the form (approved), sends it and takes a screenshot', async () => {
    const made = await k.request('POST', '/api/agents', { body: { name: 'surfer', model: 'builtin/echo', instructions: 'Browse.', allowed_tools: ['browser.*'] } });
    assert.equal(made.status, 201, made.text);
    const sid = (await k.request('POST', '/api/sessions', { token: alice.token, body: { agent: 'surfer' } })).body.id;
    const say = (message: string) => k.request('POST', `/api/sessions/${sid}/messages`, { token: alice.token, body: { message } });
    const approveNext = async (tool: string) => {
      const pending = await waitFor(async () => (await k.request('GET', '/api/approvals?state=pending', { token: alice.token })).body.items.find((r: any) => r.tool === tool), `approval of ${tool}`, 10_000);
      const ok = await k.request('POST', `/api/approvals/${pending.id}/approve`, { token: alice.token, body: {} });
      assert.equal(ok.status, 200, ok.text);
      return pending;
    };

    const nav = await say(`/tool browser.navigate {"url": "${site.base}/form"}`);
    assert.match(nav.body.text, /browser\.navigate returned .*"title":"Form"/, nav.text);
    const read = await say('/tool browser.read {}');
    assert.match(read.body.text, /Name/);
    const typing = say('/tool browser.type {"selector": "#name", "text": "Grace"}');
    const asked = await approveNext('browser.type');
    assert.deepEqual(asked.input, { selector: '#name', text: 'Grace' });
    assert.match((await typing).body.text, /"typed":5/);
    const clicking = say('/tool browser.click {"selector": "#send"}');
    await approveNext('browser.click');
    assert.match((await clicking).body.text, /"title":"Thanks"/);
    assert.match((await say('/tool browser.read {"selector": "#thanks"}')).body.text, /Thanks, Grace! You chose red\./);
    const shot = await say('/tool browser.screenshot {}');
    const href = /"href":"([^"]+)"/.exec(shot.body.text)?.[1];
    assert.ok(href, shot.text);
    const png = await k.request('GET', href!, { token: alice.token });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
  });

  test('stop closes the browser; actions then need a new start', async () => {
    const stopped = await k.request('POST', '/api/browser/stop', { token: alice.token, body: {} });
    assert.equal(stopped.body.stopped.length, 1);
    assert.deepEqual((await k.request('GET', '/api/browser/status', { token: alice.token })).body.sessions, []);
    assert.equal((await act({ action: 'extract_text' })).body.error.code, 'PLINTH_ERR_BROWSER_NOT_STARTED');
  });
});

describe('browser: limits and a missing chromium', { skip }, () => {
  test('an idle browser is closed after idleTimeoutMs', async () => {
    const k = await createTestKernel({ plugins: [{ path: BROWSER, config: { idleTimeoutMs: 1500, sweepMs: 100 } }] });
    try {
      const u = await k.createUser();
      assert.equal((await k.request('POST', '/api/browser/start', { token: u.token })).status, 201);
      assert.equal((await k.request('GET', '/api/browser/status', { token: u.token })).body.sessions.length, 1);
      await waitFor(async () => (await k.request('GET', '/api/browser/status', { token: u.token })).body.sessions.length === 0, 'idle close', 5000);
    } finally { await k.stop(); }
  });

  test('a browser over the memory cap is closed (the idle timeout is far off)', async () => {
    const k = await createTestKernel({ plugins: [{ path: BROWSER, config: { memoryMb: 64, sweepMs: 100 } }] });
    try {
      const u = await k.createUser();
      assert.equal((await k.request('POST', '/api/browser/start', { token: u.token })).status, 201);
      await waitFor(async () => (await k.request('GET', '/api/browser/status', { token: u.token })).body.sessions.length === 0, 'memory cap close', 5000);
      assert.equal((await k.request('POST', '/api/browser/action', { token: u.token, body: { action: 'extract_text' } })).body.error.code, 'PLINTH_ERR_BROWSER_NOT_STARTED');
    } finally { await k.stop(); }
  });

  test('no chromium: status says so and start fails closed, naming chromium', async () => {
    const k = await createTestKernel({ plugins: [{ path: BROWSER, config: { chromiumPath: '/nonexistent/chromium' } }] });
    try {
      const u = await k.createUser();
      const status = (await k.request('GET', '/api/browser/status', { token: u.token })).body;
      assert.equal(status.available, false);
      assert.match(status.reason, /chromium is not installed at \/nonexistent\/chromium/);
      const start = await k.request('POST', '/api/browser/start', { token: u.token });
      assert.deepEqual([start.status, start.body.error.code], [503, 'PLINTH_ERR_BROWSER_UNAVAILABLE']);
      assert.match(start.body.error.message, /chromium/);
    } finally { await k.stop(); }
  });
});
