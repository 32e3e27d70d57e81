/**
 * Faults nothing caught are tied to a plugin by their stack (core/faults.ts), and several kernels
 * may run in one process (test kernels do): a fault of kernel A's plugin marks that plugin on A
 * only, one of B's plugin on B only, and a fault in no plugin's code is each kernel's own (logged,
 * nothing marked). Run in a child process: the test runner fails a test on any uncaught error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writePlugin } from '../helpers/plugins';

const ROOT = join(__dirname, '..', '..');

/** Each route starts work that fails later, outside the request: a raw timer, a promise nobody awaits. */
const FAULTY = `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) {
  http.post('/timer', { auth: 'public' }, () => { setTimeout(() => { throw new Error('timer boom'); }, 5); return { ok: true }; });
  http.post('/rejection', { auth: 'public' }, () => { void Promise.resolve().then(() => { throw new Error('rejected boom'); }); return { ok: true }; });
} });
`;
const CALM = `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) { http.get('/ping', { auth: 'public' }, () => ({ pong: true })); } });
`;

/** Two kernels in one process; prints what each says about its plugins after each fault. */
const SCRIPT = `import { createTestKernel, waitFor } from 'plinth/testing';
const [a1, a2, b1, b2] = JSON.parse(process.env.PLUGINS!);
(async () => {
  const a = await createTestKernel({ plugins: [{ path: a1 }, { path: a2 }] });
  const b = await createTestKernel({ plugins: [{ path: b1 }, { path: b2 }] });
  const states = async () => {
    const out: Record<string, unknown> = {};
    for (const [name, k] of [['a', a], ['b', b]] as const) {
      for (const p of (await k.request('GET', '/api/plugins')).body.items) out[name + '.' + p.id] = p.status === 'error' ? p.error.message : p.status;
    }
    return out;
  };
  const kernelFaults = async () => {
    const out: Record<string, number> = {};
    for (const [name, k] of [['a', a], ['b', b]] as const) {
      out[name] = (await k.request('GET', '/api/logs?plugin=kernel&level=error')).body.items.filter((l: any) => l.msg === 'kernel fault').length;
    }
    return out;
  };
  const report: Record<string, unknown> = {};
  try {
    await a.request('POST', '/api/faulty/timer', { token: null });
    await waitFor(async () => (await a.request('GET', '/api/plugins/faulty')).body.status === 'error', 'A: faulty marked error', 5000);
    report.afterA = await states();
    await b.request('POST', '/api/faulty/rejection', { token: null });
    await waitFor(async () => (await b.request('GET', '/api/plugins/faulty')).body.status === 'error', 'B: faulty marked error', 5000);
    report.afterB = await states();
    setTimeout(() => { throw new Error('boom outside any plugin'); }, 5);
    await waitFor(async () => { const f = await kernelFaults(); return f.a > 0 && f.b > 0; }, 'both kernels log the kernel fault', 5000);
    report.afterKernel = await states();
    report.kernelFaults = await kernelFaults();
  } finally {
    await a.stop();
    await b.stop();
  }
  process.stdout.write(JSON.stringify(report) + '\\n');
})().catch(err => { process.stderr.write(String(err?.stack ?? err)); process.exit(1); });
`;

describe('faults tied to plugins with several kernels in one process', () => {
  let dir: string;
  let plugins: string[];
  before(() => {
    dir = tempDir('fault-attribution-');
    // The same plugin ids in both kernels, each from its own folder.
    plugins = [
      writePlugin(join(dir, 'a'), { id: 'faulty', code: FAULTY }), writePlugin(join(dir, 'a'), { id: 'calm', code: CALM }),
      writePlugin(join(dir, 'b'), { id: 'faulty', code: FAULTY }), writePlugin(join(dir, 'b'), { id: 'calm', code: CALM }),
    ];
    writeFileSync(join(dir, 'two-kernels.ts'), SCRIPT);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('each fault marks the plugin of the kernel whose code raised it, and nothing else', async () => {
    const child = spawn(process.execPath, ['--require', join(ROOT, 'scripts', 'ts-hook.js'), join(dir, 'two-kernels.ts')], {
      cwd: ROOT, env: { ...process.env, PLUGINS: JSON.stringify(plugins) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>(resolve => child.once('exit', resolve));
    clearTimeout(killer);
    assert.equal(code, 0, err.slice(-2000));
    const report = JSON.parse(out.trim().split('\n').pop()!);
    assert.deepEqual(report.afterA, { 'a.faulty': 'uncaughtException: timer boom', 'a.calm': 'active', 'b.faulty': 'active', 'b.calm': 'active' });
    assert.deepEqual(report.afterB, { 'a.faulty': 'uncaughtException: timer boom', 'a.calm': 'active', 'b.faulty': 'unhandledRejection: rejected boom', 'b.calm': 'active' });
    assert.deepEqual(report.afterKernel, report.afterB, 'a fault in no plugin\'s code marks no plugin');
    assert.deepEqual(report.kernelFaults, { a: 1, b: 1 });
  });
});
