/** GET /api/jobs/:id/artifact: the file the latest attempt kept, raw, as a download, or rendered; refusals beside it working. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, echoAgents, type TestKernel } from 'plinth/testing';
import { logOf, waitForJob } from './helpers';

const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

for (const database of dialects) {
  describe(`job artifacts (${database})`, () => {
    let k: TestKernel;
    let alice: { user: any; token: string };
    let bob: { user: any; token: string };
    before(async () => {
      k = await createTestKernel({
        database,
        plugins: [echoAgents(), { path: join(__dirname, '..'), config: { pollMs: 100, heartbeatMs: 100, leaseMs: 2000, backoffBaseMs: 20, backoffMaxMs: 50, defaultMaxRetries: 0, allowUserCommands: true, maxArtifactBytes: 1000 } }],
      });
      alice = await k.createUser();
      bob = await k.createUser();
    });
    after(() => k?.stop());

    const run = async (body: Record<string, unknown>, states = ['done']) => {
      const r = await k.request('POST', '/api/jobs', { token: alice.token, body });
      assert.equal(r.status, 201, r.text);
      const d = await waitForJob(k, r.body.id, ['done', 'failed']);
      assert.ok(states.includes(d.job.state), `${d.job.state}: ${d.job.error}`);
      return d;
    };
    const artifact = (id: string, query = '', token = alice.token) => k.request('GET', `/api/jobs/${id}/artifact${query}`, { token });

    test('a command names a file in its folder: raw, ?download=1, ?format=html (sanitized); its owner and admins only', async () => {
      const md = '# Report\\n\\n- **ok** item\\n\\n<script>alert(1)</script>\\n\\n[click](javascript:alert(2)) <img src=x onerror=alert(3)>\\n';
      const d = await run({ kind: 'command', request: { command: `mkdir -p out; printf '${md}' > "$PLINTH_ARTIFACT"; echo other > notes.txt`, artifact: 'out/report.md' } });
      assert.deepEqual({ name: d.artifact.name, attempt: d.artifact.attempt, mediaType: d.artifact.mediaType }, { name: 'out/report.md', attempt: 1, mediaType: 'text/markdown' });
      const raw = await artifact(d.job.id);
      assert.equal(raw.status, 200);
      assert.match(raw.headers.get('content-type')!, /^text\/markdown/);
      assert.match(raw.text, /^# Report/);
      assert.match(raw.headers.get('content-security-policy')!, /sandbox/);
      assert.equal(raw.headers.get('content-disposition'), null);
      const dl = await artifact(d.job.id, '?download=1');
      assert.equal(dl.headers.get('content-disposition'), 'attachment; filename="report.md"');
      assert.equal(dl.text, raw.text);
      const html = await artifact(d.job.id, '?format=html');
      assert.match(html.headers.get('content-type')!, /^text\/html/);
      assert.match(html.text, /<h1>Report<\/h1>/);
      assert.match(html.text, /<strong>ok<\/strong>/);
      assert.doesNotMatch(html.text, /<script|javascript:|onerror/);
      // Another user's job answers 404 as if it did not exist; an admin reads it.
      const hidden = await artifact(d.job.id, '', bob.token);
      assert.equal(hidden.status, 404);
      assert.match(hidden.body.error.message, /job .* not found/);
      assert.equal((await artifact(d.job.id, '', k.adminToken)).text, raw.text);
      assert.equal((await artifact(d.job.id, '?format=pdf')).status, 400);
    });

    test('a job without an artifact answers 404 saying so; a named file that was not written is logged, not a failure', async () => {
      const none = await run({ kind: 'command', request: { command: 'echo hi' } });
      const r = await artifact(none.job.id);
      assert.equal(r.status, 404);
      assert.equal(r.body.error.code, 'PLINTH_ERR_NOT_FOUND');
      assert.match(r.body.error.message, /has no artifact.*request\.artifact/);
      assert.equal(none.artifact, null);
      const missing = await run({ kind: 'command', request: { command: 'true', artifact: 'never.md' } });
      assert.ok((await logOf(k, missing.job.id)).includes('[artifact] never.md was not written'));
      assert.equal((await artifact(missing.job.id)).status, 404);
    });

    test('the latest attempt counts: a retry\'s file replaces the failed first attempt\'s; a failed attempt\'s file is kept too', async () => {
      const d = await run({ kind: 'command', max_retries: 1, request: { command: 'echo "attempt $PLINTH_JOB_ATTEMPT" > log.txt; [ "$PLINTH_JOB_ATTEMPT" = 2 ] || exit 1', artifact: 'log.txt' } });
      assert.equal(d.job.attempts, 2);
      const r = await artifact(d.job.id);
      assert.equal(r.text, 'attempt 2\n');
      assert.equal(r.headers.get('x-plinth-artifact-attempt'), '2');
      const failed = await run({ kind: 'command', request: { command: 'echo broken > out.txt; exit 4', artifact: 'out.txt' } }, ['failed']);
      assert.equal((await artifact(failed.job.id)).text, 'broken\n');
    });

    test('refused: a path out of the folder (400 at creation), a symlink leading out, a file over maxArtifactBytes, html of a binary', async () => {
      for (const bad of ['../x', '/etc/passwd', 'a/../../x']) {
        const r = await k.request('POST', '/api/jobs', { token: alice.token, body: { kind: 'command', request: { command: 'true', artifact: bad } } });
        assert.equal(r.status, 400, bad);
        assert.match(JSON.stringify(r.body.error), /artifact/);
      }
      const link = await run({ kind: 'command', request: { command: 'ln -s /etc/hostname leak', artifact: 'leak' } });
      assert.ok((await logOf(k, link.job.id)).some(l => l.includes("leak leads out of the job's folder")));
      assert.equal((await artifact(link.job.id)).status, 404);
      const big = await run({ kind: 'command', request: { command: 'head -c 2000 /dev/zero > big.bin', artifact: 'big.bin' } });
      assert.ok((await logOf(k, big.job.id)).some(l => /big\.bin not kept: .*maxArtifactBytes/.test(l)));
      const bin = await run({ kind: 'command', request: { command: 'printf "\\x89PNG" > pic.png', artifact: 'pic.png' } });
      assert.equal((await artifact(bin.job.id)).headers.get('content-type'), 'image/png');
      const html = await artifact(bin.job.id, '?format=html');
      assert.equal(html.status, 400);
      assert.match(html.body.error.message, /image\/png/);
    });

    test('an agent job keeps its answer as the artifact under the name it gives', async () => {
      const d = await run({ kind: 'agent', request: { agent: 'echo', message: 'the summary', artifact: 'summary.md' } });
      const r = await artifact(d.job.id);
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /the summary/);
    });
  });
}
