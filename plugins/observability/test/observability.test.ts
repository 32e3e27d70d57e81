import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { join } from 'node:path';
import { createTestKernel, parsePrometheusText, samplesOf, valueOf, type TestKernel } from 'plinth/testing';
import { definePlugin, metricsRef } from 'plinth/sdk';

const OBSERVABILITY = join(__dirname, '..');

const toolbox = {
  manifest: { id: 'toolbox' },
  plugin: definePlugin({
    setup({ tools }) {
      tools.register({ name: 'double', description: 'doubles n', inputSchema: { type: 'object', properties: { n: { type: 'integer' } } }, risk: 'safe', run: (i: any) => i.n * 2 });
    },
  }),
};

describe('GET /metrics', () => {
  let k: TestKernel;
  before(async () => {
    k = await createTestKernel({ plugins: [toolbox, { path: OBSERVABILITY, config: { metricsToken: 'scrape-secret-123' } }] });
  });
  after(() => k.stop());

  test('a local scraper reads requests by route template and status, events, plugin states', async () => {
    await k.request('GET', '/api/health');
    await k.request('GET', '/api/plugins/toolbox');
    await k.request('GET', '/api/plugins/nosuch');
    await k.events.publish('toolbox.something', {});
    const res = await k.request('GET', '/metrics', { token: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text: string = res.text;
    assert.match(text, /plinth_http_requests_total\{method="GET",route="\/api\/health",status="200",node="node_[a-z2-7]+"\} 1/);
    assert.match(text, /plinth_http_requests_total\{method="GET",route="\/api\/plugins\/:id",status="200"[^}]*\} 1/);
    assert.match(text, /plinth_http_requests_total\{method="GET",route="\/api\/plugins\/:id",status="404"[^}]*\} 1/);
    assert.ok(text.split('\n').some(l => l.startsWith('plinth_http_request_duration_seconds_bucket{') && l.includes('route="/api/health"') && l.includes('le="+Inf"') && l.endsWith(' 1')));
    assert.match(text, /plinth_events_total\{kind="published",source="toolbox"[^}]*\} 1/);
    assert.match(text, /plinth_plugins\{state="active"[^}]*\} 2/, 'toolbox and observability itself');
    assert.match(text, /plinth_plugin_reloads\{plugin="toolbox"[^}]*\} 0/);
    assert.match(text, /plinth_process_resident_memory_bytes\{/);
  });

  test('from behind a proxy it needs the metrics token or an admin token', async () => {
    const proxied = { 'x-forwarded-for': '203.0.113.9' };
    const none = await k.request('GET', '/metrics', { token: null, headers: proxied });
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'PLINTH_ERR_UNAUTHORIZED');
    const { token } = await k.createUser();
    const user = await k.request('GET', '/metrics', { token, headers: proxied });
    assert.equal(user.status, 403);
    assert.equal((await k.request('GET', '/metrics', { token: 'scrape-secret-12x', headers: proxied })).status, 401);
    assert.equal((await k.request('GET', '/metrics', { token: 'scrape-secret-123', headers: proxied })).status, 200);
    assert.equal((await k.request('GET', '/metrics', { headers: proxied })).status, 200, 'an admin token');
  });
});

describe('metrics contributed through core.metrics', () => {
  let k: TestKernel;
  let depth = 3;
  const gauges = {
    manifest: { id: 'gauges' },
    plugin: definePlugin({
      deps: { metrics: metricsRef },
      setup({ metrics }) {
        metrics.gauge({ name: 'plinth_gauges_depth', help: 'a queue\'s depth', labelNames: ['queue'], collect: () => [{ labels: { queue: 'a "quoted" one' }, value: depth }] });
        metrics.counter({ name: 'plinth_gauges_done_total', help: 'work done', collect: async () => [{ value: 7 }] });
        metrics.gauge({ name: 'plinth_gauges_broken', help: 'fails to collect', collect: () => { throw new Error('no figures'); } });
      },
    }),
  };
  const misnamed = {
    manifest: { id: 'misnamed' },
    plugin: definePlugin({
      deps: { metrics: metricsRef },
      setup({ metrics }) { metrics.gauge({ name: 'plinth_jobs', help: 'someone else\'s name', collect: () => [] }); },
    }),
  };
  before(async () => { k = await createTestKernel({ plugins: [gauges, misnamed, { path: OBSERVABILITY }] }); });
  after(() => k.stop());

  test('a plugin\'s gauges and counters are collected when scraped; one whose collect throws is left out alone', async () => {
    let m = parsePrometheusText((await k.request('GET', '/metrics', { token: null })).text);
    assert.equal(m.types.get('plinth_gauges_depth'), 'gauge');
    assert.equal(m.types.get('plinth_gauges_done_total'), 'counter');
    assert.equal(valueOf(m, 'plinth_gauges_depth', { queue: 'a "quoted" one' }), 3);
    assert.equal(valueOf(m, 'plinth_gauges_done_total'), 7);
    assert.equal(m.types.has('plinth_gauges_broken'), false);
    depth = 5;
    m = parsePrometheusText((await k.request('GET', '/metrics', { token: null })).text);
    assert.equal(valueOf(m, 'plinth_gauges_depth'), 5, 'read at each scrape');
    const logs = (await k.request('GET', '/api/logs?plugin=observability&level=warn&limit=100')).body.items;
    assert.ok(logs.some((l: any) => /collecting a contributed metric failed/.test(l.msg) && JSON.stringify(l).includes('no figures')), JSON.stringify(logs));
  });

  test('a metric named outside the plugin\'s namespace stops its setup with the reason; the others serve', async () => {
    const p = (await k.request('GET', '/api/plugins/misnamed')).body;
    assert.equal(p.status, 'error');
    assert.equal(p.error.code, 'PLINTH_ERR_METRIC_NAME');
    assert.match(p.error.message, /plinth_misnamed/);
    const m = parsePrometheusText((await k.request('GET', '/metrics', { token: null })).text);
    assert.equal(samplesOf(m, 'plinth_jobs').length, 0);
    assert.equal(valueOf(m, 'plinth_plugins', { state: 'active' }), 2);
  });
});

describe('the kernel\'s request observer', () => {
  let k: TestKernel;
  before(async () => { k = await createTestKernel({ plugins: [{ path: OBSERVABILITY }] }); });
  after(() => k.stop());

  test('a disabled plugin observes nothing and serves no /metrics; enabled again, its new generation counts from there', async () => {
    assert.equal((await k.request('PUT', '/api/plugins/observability/toggle', { body: { enabled: false } })).status, 200);
    const gone = await k.request('GET', '/metrics', { token: null });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'PLINTH_ERR_NOT_FOUND');
    assert.equal((await k.request('GET', '/api/health')).status, 200, 'requests are served without an observer');
    assert.equal((await k.request('PUT', '/api/plugins/observability/toggle', { body: { enabled: true } })).status, 200);
    await k.request('GET', '/api/tools');
    const text: string = (await k.request('GET', '/metrics', { token: null })).text;
    assert.match(text, /plinth_http_requests_total\{method="GET",route="\/api\/tools",status="200"[^}]*\} 1/);
    assert.doesNotMatch(text, /route="\/api\/health"/, 'the request made while disabled was not observed');
  });
});

describe('OpenTelemetry traces', () => {
  let k: TestKernel;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] } as any);
  before(async () => {
    (provider as any).addSpanProcessor?.(new SimpleSpanProcessor(exporter));
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    k = await createTestKernel({ plugins: [toolbox, { path: OBSERVABILITY }] });
  });
  after(async () => {
    await k.stop();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  test('an HTTP request continues the caller\'s trace, and the tool it runs is a child span', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await k.request('POST', '/api/plugins/toolbox/execute/double', { body: { n: 2 }, headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    assert.equal(res.status, 200);
    const spans = exporter.getFinishedSpans();
    const http = spans.find(s => s.attributes['http.route'] === '/api/plugins/:id/execute/:tool')!;
    const tool = spans.find(s => s.name === 'tool toolbox.double')!;
    assert.ok(http && tool, spans.map(s => s.name).join(', '));
    assert.equal(http.spanContext().traceId, traceId);
    assert.equal(http.attributes['http.response.status_code'], 200);
    assert.equal(tool.spanContext().traceId, traceId);
    assert.equal(tool.parentSpanId, http.spanContext().spanId);
    assert.equal(tool.attributes['plinth.plugin'], 'toolbox');
  });
});
