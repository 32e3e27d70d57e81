/**
 * 20 concurrent runs, each printing N MB (default 10) of numbered lines in its PTY, each watched by
 * 5 SSE viewers on /api/runs/:id/events/stream. Every viewer checks that it got every line, in
 * order, exactly once (reconnecting with last_event_id when the server cuts a slow reader off).
 * The kernel runs as its own process (as `npm start` does) so that its CPU can be measured.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer } from '../test/helpers/server';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 5);
const MB = Number(process.env.BENCH_MB ?? 10);
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 150_000);
const ROOT = join(__dirname, '..');
const LINES = Math.round(MB * 1024 * 1024 / 100);

const cpuOf = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const machineCpu = () => { const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number); return { busy: f[0] + f[1] + f[2] + f[5] + f[6], total: f.reduce((a, b) => a + b, 0) }; };

interface ViewerResult { lines: number; ok: boolean; error?: string; reconnects: number; bytes: number }

async function viewer(baseUrl: string, token: string, runId: string, deadline: number): Promise<ViewerResult> {
  let expected = 0; let partial = ''; let lastId = ''; let reconnects = -1; let bytes = 0; let done = false;
  const fail = (error: string): ViewerResult => ({ lines: expected, ok: false, error, reconnects, bytes });
  while (!done && Date.now() < deadline) {
    reconnects++;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), Math.max(1, deadline - Date.now()));
    try {
      const res = await fetch(`${baseUrl}/api/runs/${runId}/events/stream${lastId ? `?last_event_id=${lastId}` : ''}`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let buf = '';
      while (!done) {
        const { value, done: end } = await reader.read();
        if (end) break;
        bytes += value.length;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i); buf = buf.slice(i + 2);
          if (block.startsWith(':')) continue;
          const id = /^id: (\d+)/m.exec(block)?.[1];
          const data = block.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n');
          if (!id) continue;
          if (lastId && Number(id) !== Number(lastId) + 1) return fail(`event ${id} after ${lastId}`);
          lastId = id;
          const ev = JSON.parse(data);
          if (ev.type === 'terminal.output') {
            const text = partial + ev.data.data;
            const lines = text.split('\r\n');
            partial = lines.pop()!;
            for (const line of lines) {
              if (!line.startsWith(String(expected).padStart(10, '0') + ' ')) return fail(`line ${expected} was "${line.slice(0, 20)}"`);
              expected++;
            }
          } else if (ev.type === 'run.completed' || ev.type === 'run.failed' || ev.type === 'run.cancelled') {
            done = true;
          }
        }
      }
    } catch (err: any) {
      if (err.name !== 'AbortError') return fail(err.message);
    } finally { clearTimeout(timer); ac.abort(); }
  }
  return { lines: expected, ok: done && expected === LINES, error: !done ? 'deadline' : expected !== LINES ? `got ${expected} of ${LINES} lines` : undefined, reconnects, bytes };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-bench-runs-'));
  const repo = join(dir, 'repo');
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  writeFileSync(join(repo, 'README.md'), 'bench\n');
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: repo });
  const agent = { id: 'flood', kind: 'cli', cli_name: 'command', provider_config: { command: join(ROOT, 'plugins/runs/test/fixtures/agent.sh'), args: ['flood', String(MB)] } };
  writeFileSync(join(dir, 'registry.json'), JSON.stringify({ plugins: [
    { id: 'agents', path: join(ROOT, 'plugins/runs/test/fixtures/cli-agents'), enabled: true, config: { agents: [agent] } },
    { id: 'runs', path: join(ROOT, 'plugins/runs'), enabled: true, config: {} },
  ] }));
  const server = await startServer({ PLINTH_DATA_DIR: join(dir, 'data'), PLINTH_REGISTRY: join(dir, 'registry.json'), PLINTH_LOG_STDOUT: '1', PLINTH_LOG_LEVEL: 'warn' });
  const token = server.adminToken;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(server.baseUrl + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    const json: any = await r.json().catch(() => undefined);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const project = await api('POST', '/api/projects', { name: 'bench' });
    await api('POST', `/api/projects/${project.id}/repos`, { name: 'repo', repo_path: repo });
    const cpu0 = cpuOf(server.proc.pid!); const m0 = machineCpu();
    const t0 = Date.now();
    const deadline = t0 + DEADLINE_MS;
    process.stderr.write(`starting ${RUNS} runs × ${MB} MB, ${VIEWERS} viewers each\n`);
    const runs = await Promise.all(Array.from({ length: RUNS }, () => api('POST', '/api/runs', { agent_id: 'flood', task: 'flood', project_id: project.id })));
    const results = await Promise.all(runs.flatMap(run => Array.from({ length: VIEWERS }, () => viewer(server.baseUrl, token, run.id, deadline))));
    const seconds = (Date.now() - t0) / 1000;
    const cpu1 = cpuOf(server.proc.pid!); const m1 = machineCpu();
    const statuses = await Promise.all(runs.map(r => api('GET', `/api/runs/${r.id}`).then(x => x.status)));
    const producedMb = RUNS * MB;
    const okViewers = results.filter(r => r.ok).length;
    const kernelCpuSeconds = cpu1 - cpu0;
    console.log(JSON.stringify({
      runs: RUNS, viewers_per_run: VIEWERS, mb_per_run: MB, seconds: Number(seconds.toFixed(2)),
      produced_mb_per_s: Number((producedMb / seconds).toFixed(2)),
      delivered_mb_per_s: Number((producedMb * okViewers / RUNS / seconds).toFixed(2)),
      viewers_complete_in_order: okViewers, viewers_total: results.length,
      viewer_errors: [...new Set(results.filter(r => !r.ok).map(r => r.error))].slice(0, 5),
      reconnects: results.reduce((s, r) => s + r.reconnects, 0),
      runs_completed: statuses.filter(s => s === 'completed').length,
      kernel_cpu_seconds: Number(kernelCpuSeconds.toFixed(2)),
      kernel_cpu_cores: Number((kernelCpuSeconds / seconds).toFixed(2)),
      kernel_share_of_busy_cpu: Number((kernelCpuSeconds / Math.max(1e-9, (m1.busy - m0.busy) / 100)).toFixed(3)),
    }));
  } catch (err) {
    process.stderr.write(server.output().slice(-3000) + '\n');
    throw err;
  } finally {
    server.kill('SIGTERM');
    await Promise.race([server.exited, new Promise(r => setTimeout(r, 10_000))]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(err => { console.error(err); process.exit(1); });
