/**
 * One request followed through the platform (issue 15): an HTTP request to an agent session, the
 * agent turn, the tool it calls, the job that tool asks for (run later by the dispatcher) — one
 * trace, exported by the observability plugin over OTLP/HTTP to a receiver on 127.0.0.1 that
 * reads the JSON encoding the exporter sends.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestKernel, listenLocal, readJsonBody, waitFor, type TestKernel } from 'plinth/testing';
import { definePlugin } from 'plinth/sdk';
import { jobsRef } from 'plinth/contracts/jobs';
import { plugin } from './helpers';

interface ReceivedSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes: Record<string, unknown> }

/** An OTLP/HTTP trace receiver (`POST /v1/traces`, JSON encoding) keeping every span it is sent. */
async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const { server, url } = await listenLocal(async (req, res) => {
    const body: any = req.method === 'POST' && req.url === '/v1/traces' && req.headers['content-type'] === 'application/json' ? await readJsonBody(req) : undefined;
    if (!body) { res.writeHead(415).end(); return; }
    for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) {
      const attributes = Object.fromEntries((s.attributes ?? []).map((a: any) => [a.key, Object.values(a.value ?? {})[0]]));
      spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, attributes });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  return { spans, url, close: () => new Promise<void>(r => server.close(() => r())) };
}

/** A plugin whose tool asks the jobs plugin for a command job, as any plugin would through its contract. */
const enqueuer = {
  manifest: { id: 'enqueuer', dependsOn: ['jobs'] },
  plugin: definePlugin({
    deps: { jobs: jobsRef },
    setup({ tools, jobs }) {
      tools.register({
        name: 'later', description: 'asks for a job', risk: 'safe', inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
        run: (input: any, ctx) => jobs.enqueue({ owner: ctx.user.id, kind: 'command', request: { command: `echo ${input.text}` } }),
      });
    },
  }),
};

describe('a trace across HTTP → agent turn → tool → job, exported over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let k: TestKernel;
  before(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
    k = await createTestKernel({ plugins: [plugin('observability'), plugin('agents'), plugin('jobs', { pollMs: 50, allowUserCommands: true }), enqueuer] });
  });
  after(async () => {
    await k.stop();
    await receiver.close();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  });

  test('the caller\'s traceparent is continued by the request, the turn, the tool and the job it asked for', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const session = (await k.request('POST', '/api/sessions', { body: { agent: 'assistant' } })).body.id;
    const r = await k.request('POST', `/api/sessions/${session}/messages`, {
      body: { message: '/tool enqueuer.later {"text": "traced"}' }, headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    assert.equal(r.status, 200, r.text);
    const jobId = /"id":"(job_[^"]+)"/.exec(JSON.stringify(r.body))?.[1] ?? /(job_[a-z2-7]+)/.exec(r.body.text)?.[1];
    assert.ok(jobId, r.text);

    const spans = await waitFor(() => {
      const s = receiver.spans.filter(x => x.traceId === traceId);
      return s.some(x => x.name === 'job command') ? s : undefined;
    }, 'the job\'s span exported');
    const one = (name: string) => {
      const found = spans.filter(s => s.name === name);
      assert.equal(found.length, 1, `${name} in ${spans.map(s => s.name).join(', ')}`);
      return found[0];
    };
    const http = spans.find(s => s.attributes['http.route'] === '/api/sessions/:id/messages')!;
    assert.ok(http, spans.map(s => s.name).join(', '));
    assert.equal(http.parentSpanId, 'b7ad6b7169203331', 'the request continues the caller\'s span');
    const turn = one('agent turn');
    assert.equal(turn.parentSpanId, http.spanId);
    assert.equal(turn.attributes['plinth.session'], session);
    const tool = one('tool enqueuer.later');
    assert.equal(tool.parentSpanId, turn.spanId);
    const job = one('job command');
    assert.equal(job.parentSpanId, tool.spanId, 'the job, run later by the dispatcher, continues the tool\'s span');
    assert.equal(job.attributes['plinth.job'], jobId);
    assert.equal((await k.request('GET', `/api/jobs/${jobId}`)).body.job.traceParent, undefined, 'the stored traceparent is not in answers');
  });

  test('a job asked for outside any trace starts a trace of its own', async () => {
    const r = await k.request('POST', '/api/jobs', { body: { kind: 'command', request: { command: 'echo untraced' } } });
    assert.equal(r.status, 201);
    const http = await waitFor(() => receiver.spans.find(s => s.attributes['http.route'] === '/api/jobs' && s.attributes['http.request.method'] === 'POST'), 'the POST span');
    const job = await waitFor(() => receiver.spans.find(s => s.attributes['plinth.job'] === r.body.id), 'the job span');
    assert.equal(job.traceId, http.traceId, 'a job asked for by an untraced client follows the request\'s own trace');
    assert.equal(job.parentSpanId, http.spanId);
  });
});
