import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

/**
 * Scenarios that cannot pass here, and why:
 * - server-sse-polling: needs an MCP event store for resumable SSE and a `test_reconnection` tool
 *   that closes its stream mid-call (the server keeps no event store yet).
 * - elicitation-sep1034-defaults, elicitation-sep1330-enums: their fixture tools are not provided.
 */
const EXPECTED_FAILURES = new Set(['server-sse-polling', 'elicitation-sep1034-defaults', 'elicitation-sep1330-enums']);
const SCENARIOS = [
  'server-initialize', 'logging-set-level', 'ping', 'completion-complete', 'tools-list', 'tools-call-simple-text', 'tools-call-image',
  'tools-call-audio', 'tools-call-embedded-resource', 'tools-call-mixed-content', 'tools-call-with-logging', 'tools-call-error',
  'tools-call-with-progress', 'tools-call-sampling', 'tools-call-elicitation', 'resources-list', 'resources-read-text',
  'resources-read-binary', 'resources-templates-read', 'resources-subscribe', 'resources-unsubscribe', 'prompts-list',
  'prompts-get-simple', 'prompts-get-with-args', 'prompts-get-embedded-resource', 'prompts-get-with-image', 'dns-rebinding-protection',
  'json-schema-2020-12', 'server-sse-multiple-streams',
];

describe('official MCP conformance suite against /mcp', () => {
  let k: TestKernel;
  let proxy: http.Server;
  let proxyUrl: string;
  let outDir: string;
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: join(__dirname, '../../../plugins/mcp') }, { path: join(__dirname, '..') }] });
    const target = new URL(k.baseUrl);
    // The suite sends no credentials: this proxy adds the admin token and forwards everything else
    // untouched (the Host header included, so the DNS-rebinding scenario still reaches the check).
    proxy = http.createServer((req, res) => {
      const upstream = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method,
        headers: { ...req.headers, authorization: `Bearer ${k.adminToken}` } }, up => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>(r => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://localhost:${(proxy.address() as any).port}/mcp`;
    outDir = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  });
  after(async () => {
    proxy?.closeAllConnections();
    await new Promise(r => proxy?.close(r));
    await k?.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  test('every supported scenario passes', { timeout: 90_000 }, async () => {
    const cli = require.resolve('@modelcontextprotocol/conformance/dist/index.js');
    const results: Record<string, string[]> = {};
    // One scenario per run keeps each bounded; a few in parallel keep the whole under a minute.
    const queue = [...SCENARIOS];
    const worker = async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const dir = join(outDir, s);
        await run(process.execPath, [cli, 'server', '--url', proxyUrl, '--scenario', s, '-o', dir], 30_000);
        const checks = readChecks(dir);
        results[s] = checks.filter(c => c.status === 'FAILURE').map(c => `${c.id}: ${c.errorMessage ?? ''}`);
        if (!checks.some(c => c.status === 'SUCCESS')) results[s].push('no successful check recorded');
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    const failing = Object.entries(results).filter(([s, f]) => f.length && !EXPECTED_FAILURES.has(s));
    assert.deepEqual(failing, [], JSON.stringify(failing, null, 1));
  });
});

function readChecks(dir: string): Array<{ id: string; status: string; errorMessage?: string }> {
  if (!existsSync(dir)) return [];
  const out: Array<{ id: string; status: string; errorMessage?: string }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      if (name.isDirectory()) walk(join(d, name.name));
      else if (name.name === 'checks.json') out.push(...JSON.parse(readFileSync(join(d, name.name), 'utf8')));
    }
  };
  walk(dir);
  return out;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<number> {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', code => { clearTimeout(t); resolve(code ?? 1); });
  });
}
