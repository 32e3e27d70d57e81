/**
 * The dashboard in a real headless Chromium against a real kernel with the real plugins: sign
 * in, chat with streaming, approve a gated tool and see it finish, toggle a plugin, and a
 * screenshot of every page under test-output/dashboard/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestKernel } from 'plinth/testing';
import { CHROMIUM, CHROMIUM_ARGS, dashboardKernel, seedRun, shotsDir, until } from './helpers';

const hasChromium = existsSync(CHROMIUM);
let k: TestKernel;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console errors of the page (a failed fetch is logged there as well). */
const consoleErrors: string[] = [];
const email = 'admin@example.test';
const password = 'correct horse battery';
const shot = (p: Page, name: string) => p.screenshot({ path: join(shotsDir(), `${name}.png`), fullPage: true });

before(async () => {
  if (!hasChromium) return;
  k = await dashboardKernel();
  await k.users.create({ email, role: 'admin', password });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 15_000 });
  context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  context.setDefaultTimeout(8000);
  page = await context.newPage();
  page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', err => consoleErrors.push(err.message));
});

after(async () => {
  await browser?.close();
  await k?.stop();
});

test('sign in: a wrong password is a readable error, the right one opens the overview, live over /ws', { skip: !hasChromium && 'no /usr/bin/chromium' }, async () => {
  await page.goto(`${k.baseUrl}/dashboard`);
  await page.getByTestId('login-form').waitFor();
  // The first load probes /auth/me without a session: { user: null }, not a 401 in the console.
  await page.waitForLoadState('networkidle');
  assert.deepEqual(consoleErrors, [], 'the first load logs no error in the browser console');
  await shot(page, '01-sign-in');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'wrong password');
  await page.click('button[type=submit]');
  await page.getByRole('alert').filter({ hasText: 'Not signed in' }).waitFor();
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.getByTestId('plugins').waitFor();
  await page.getByTestId('socket-state').filter({ hasText: 'live' }).waitFor();
  // The session is the HttpOnly cookie: nothing is readable from script, nothing kept in localStorage.
  assert.equal(await page.evaluate<string>('document.cookie'), '');
  assert.equal(await page.evaluate<string | null>("localStorage.getItem('plinth.token')"), null);
  await page.locator('[data-plugin=approvals] .badge').filter({ hasText: 'active' }).waitFor();
  await shot(page, '02-overview');
});

test('chat: a message streams back from the builtin model, a tool call shows its result, a turn is graded', { skip: !hasChromium && 'no chromium' }, async () => {
  await page.goto(`${k.baseUrl}/dashboard/chat`);
  await page.getByTestId('new-session').click();
  await page.waitForURL(/\/dashboard\/chat\/ses_/);
  await page.getByTestId('chat-input').fill('hello streaming world');
  await page.getByTestId('send').click();
  const turn = page.locator('.turn[data-status=done]').first();
  await turn.locator('.bubble.agent', { hasText: 'hello streaming world' }).waitFor();
  await page.getByTestId('chat-input').fill('/tool memory.search {"query":"streaming"}');
  await page.getByTestId('send').click();
  await page.locator('.turn[data-status=done]').nth(1).getByTestId('tool-call').waitFor();
  await page.locator('.turn[data-status=done]').nth(1).locator('.text', { hasText: 'memory.search returned' }).waitFor();
  await turn.getByRole('button', { name: 'grade 4' }).click();
  const sessionId = page.url().split('/').pop()!;
  const turns = await k.request('GET', `/api/sessions/${sessionId}/turns`);
  const graded = await until(async () => (await k.request('GET', `/api/turns/${turns.body.items[0].id}/feedback`)).body, 5000, 'feedback');
  assert.equal(graded.grade ?? graded.items?.[0]?.grade, 4);
  // The insights plugin's tips on that turn: none for a plain echo.
  await turn.getByTestId('turn-tips').getByRole('button', { name: 'Tips' }).click();
  await turn.getByTestId('turn-tips').getByText('No tips for this turn.').waitFor();
  await shot(page, '03-chat');
});

test('approvals: a gated tool called from the chat appears in Approvals live, is approved with a reason, and the chat shows its result', { skip: !hasChromium && 'no chromium' }, async () => {
  const approvals = await context.newPage();
  await approvals.goto(`${k.baseUrl}/dashboard/approvals`);
  await approvals.getByText('Nothing is waiting').waitFor();
  await approvals.getByTestId('socket-state').filter({ hasText: 'live' }).waitFor();

  await page.getByTestId('chat-input').fill('/tool gated-tool.write {"line":"from the browser"}');
  await page.getByTestId('send').click();
  const waiting = page.locator('.tool.waiting', { hasText: 'gated-tool.write' });
  await waiting.waitFor();

  // No reload: the request arrives over /ws (approval.requested).
  const card = approvals.locator('.approval', { hasText: 'gated-tool.write' });
  await card.waitFor();
  await card.getByText('from the browser').waitFor();
  await shot(approvals, '04-approvals-pending');
  await card.getByTestId('approval-reason').fill('looks fine');
  await card.getByTestId('approve').click();
  await approvals.getByText('Nothing is waiting').waitFor();
  await approvals.locator('table', { hasText: 'looks fine' }).waitFor();
  await shot(approvals, '05-approvals-decided');
  await approvals.close();

  const result = page.locator('.tool.ok', { hasText: 'gated-tool.write' }).getByTestId('tool-result');
  await result.waitFor();
  assert.match(await result.innerText(), /"written": "from the browser"/);
  await page.locator('.turn[data-status=done]').nth(2).waitFor();
  const list = await k.request('GET', '/api/approvals?state=approved');
  assert.equal(list.body.items.length, 1);
  assert.equal(list.body.items[0].reason, 'looks fine');
});

test('overview: toggling a plugin changes its status on the page and in the kernel, and back', { skip: !hasChromium && 'no chromium' }, async () => {
  await page.goto(`${k.baseUrl}/dashboard`);
  const row = page.locator('[data-plugin=skills]');
  await row.locator('.badge', { hasText: 'active' }).waitFor();
  await page.getByTestId('toggle-skills').click();
  await row.locator('.badge', { hasText: 'disabled' }).waitFor();
  assert.equal((await k.request('GET', '/api/plugins/skills')).body.status, 'disabled');
  await page.getByTestId('recent-events').getByText('plugin.disabled').waitFor();
  await shot(page, '06-overview-plugin-disabled');
  await page.getByTestId('toggle-skills').click();
  await row.locator('.badge', { hasText: 'active' }).waitFor();
  assert.equal((await k.request('GET', '/api/plugins/skills')).body.status, 'active');
});

test('users: an admin disables a user on the users page, the kernel refuses its token, and enables it again', { skip: !hasChromium && 'no chromium' }, async () => {
  const other = await k.users.create({ email: 'carol@example.test' });
  await page.goto(`${k.baseUrl}/dashboard/users`);
  const row = page.locator('[data-user="carol@example.test"]');
  await row.locator('.badge', { hasText: 'enabled' }).waitFor();
  await page.getByTestId('toggle-carol@example.test').click();
  await row.locator('.badge', { hasText: 'disabled' }).waitFor();
  assert.equal((await k.request('GET', '/auth/me', { token: other.token })).status, 401);
  await shot(page, '06b-users');
  await page.getByTestId('toggle-carol@example.test').click();
  await row.locator('.badge', { hasText: 'enabled' }).waitFor();
  assert.equal((await k.request('GET', '/auth/me', { token: other.token })).status, 200);
});

test('jobs, runs and the other pages render their data (screenshots)', { skip: !hasChromium && 'no chromium' }, async () => {
  const parent = (await k.request('POST', '/api/jobs', { body: { kind: 'command', title: 'build', request: { command: 'echo compiling; echo linking' } } })).body;
  const child = (await k.request('POST', '/api/jobs', { body: { kind: 'command', title: 'report', parents: [parent.id], request: { command: 'echo reporting; printf "# Build report\\n\\n**all green**\\n" > report.md', artifact: 'report.md' } } })).body;
  await k.request('POST', '/api/jobs', { body: { kind: 'command', title: 'broken', max_retries: 0, request: { command: 'echo oops; exit 3' } } });
  await k.request('POST', '/api/schedules', { body: { name: 'nightly report', cron: '0 3 * * *', job: { kind: 'command', request: { command: 'echo nightly' } } } });
  const runId = await seedRun(k);
  await until(async () => ['completed', 'failed'].includes((await k.request('GET', `/api/runs/${runId}`)).body.status), 10_000, 'run to finish');

  await page.goto(`${k.baseUrl}/dashboard/jobs/${child.id}`);
  await page.locator(`[data-state=done] [data-job="${child.id}"]`).waitFor();
  await page.getByTestId('crew-graph').locator('.node').nth(1).waitFor();
  await page.getByTestId('job-log').getByText('reporting', { exact: true }).waitFor();
  // The artifact: rendered from Markdown, and downloaded with the session's bearer.
  await page.getByTestId('artifact-view').locator('h1', { hasText: 'Build report' }).waitFor();
  await page.getByTestId('artifact-view').locator('strong', { hasText: 'all green' }).waitFor();
  const [saved] = await Promise.all([page.waitForEvent('download'), page.getByTestId('artifact-download').click()]);
  assert.equal(saved.suggestedFilename(), 'report.md');
  assert.match(readFileSync((await saved.path())!, 'utf8'), /^# Build report/);
  await page.locator('[data-state=failed]', { hasText: 'broken' }).waitFor();
  await shot(page, '07-jobs');
  await page.getByTestId('schedules-tab').click();
  await page.getByTestId('schedules').getByText('nightly report').waitFor();
  await shot(page, '08-schedules');

  await page.goto(`${k.baseUrl}/dashboard/runs/${runId}`);
  await page.getByTestId('diff').getByText('line 2 (edited)').waitFor();
  await page.getByTestId('terminal').getByText('working on: edit the readme').waitFor();
  await shot(page, '09-runs');

  await page.goto(`${k.baseUrl}/dashboard/memory`);
  await page.getByTestId('memory-query').fill('streaming');
  await page.keyboard.press('Enter');
  await page.getByTestId('memory-results').locator('mark').first().waitFor();
  await shot(page, '10-memory');
  for (const [path, name, text] of [['skills', '11-skills', 'Loaded skills'], ['channels', '12-channels', 'Dead letters'], ['integrations', '13-mcp-a2a', 'A2A peers']]) {
    await page.goto(`${k.baseUrl}/dashboard/${path}`);
    await page.getByText(text).first().waitFor();
    await page.waitForLoadState('networkidle');
    await shot(page, name);
  }
  await page.goto(`${k.baseUrl}/dashboard/stats`);
  await page.getByTestId('efficiency').getByText('builtin/echo').waitFor();
  await page.locator('svg.chart circle').first().waitFor();
  // The insights plugin's recommendations (none for these few healthy turns).
  await page.locator('.card', { hasText: 'Recommendations' }).getByText('No recommendations yet.').waitFor();
  await shot(page, '14-stats');
});

test('first start: the overview offers the setup interview; run in Settings, it asks again after a bad answer and applies only on confirm', { skip: !hasChromium && 'no chromium' }, async () => {
  await page.goto(`${k.baseUrl}/dashboard/`);
  await page.getByTestId('setup-offer').getByRole('link', { name: 'Start it in Settings' }).click();
  await page.getByTestId('interview-start').click();
  const say = async (answer: string) => {
    await page.getByTestId('interview-answer').fill(answer);
    await page.getByTestId('interview-send').click();
  };
  await say('skynet');
  await page.getByTestId('interview-problem').getByText(/not one of builtin, openai, anthropic/).waitFor();
  await say('builtin');
  await page.getByText('What should your agent be called').waitFor();
  await say('helper-bot');
  await page.getByText('What should it do?').waitFor();
  await say('Help the team with quick answers.');
  await page.getByText('Which channels should reach it').waitFor();
  await say('none');
  await page.getByTestId('interview-propose').click();
  await page.getByTestId('interview-proposal').getByText('agents.helper-bot').waitFor();
  const names = async () => (await k.request('GET', '/api/agents')).body.items.map((a: any) => a.name);
  assert.ok(!(await names()).includes('helper-bot'), 'nothing applied before confirming');
  await page.getByTestId('interview-apply').click();
  await page.getByTestId('interview-proposal').getByText('The configuration is in place.').waitFor();
  assert.ok((await names()).includes('helper-bot'));
  await shot(page, '16-interview');
  await page.goto(`${k.baseUrl}/dashboard/`);
  await page.getByText('Plugins').first().waitFor();
  assert.equal(await page.getByTestId('setup-offer').count(), 0, 'offered only until applied');
});

test('settings: pair a device, see it paired once it proves the code, revoke it; the wallet shows its address and a clear balance error', { skip: !hasChromium && 'no chromium' }, async () => {
  await page.goto(`${k.baseUrl}/dashboard/settings`);
  await page.getByTestId('device-name').fill('phone');
  await page.getByTestId('pair').click();
  const text = await page.getByTestId('pair-code').innerText();
  const [, code, id] = /Enter (\d{6}) on the device \(device id (dev_\w+)\)/.exec(text)!;
  await page.getByTestId('devices').locator('tr', { hasText: 'phone' }).getByText('pending').waitFor();
  const verified = await k.request('POST', `/api/runtime/devices/${id}/verify`, { token: null, body: { code } });
  assert.equal(verified.status, 200, verified.text);
  await page.reload();
  const row = page.getByTestId('devices').locator('tr', { hasText: 'phone' });
  await row.getByText('paired').waitFor();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await row.getByText('revoked').waitFor();
  assert.equal((await k.request('GET', `/api/runtime/devices/${id}`, { token: verified.body.token })).status, 401);

  const address = await page.getByTestId('wallet-address').innerText();
  assert.match(address, /^0x[0-9a-fA-F]{40}$/);
  await page.getByTestId('wallet-balance').click();
  await page.getByTestId('wallet-error').getByText(/no JSON-RPC endpoint/).waitFor();
  await shot(page, '15-settings');
});
