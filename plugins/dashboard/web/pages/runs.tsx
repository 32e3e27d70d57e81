import { useEffect, useState } from 'preact/hooks';
import { api, q, stream } from '../lib/api';
import { useLive } from '../lib/ws';
import { href } from '../lib/router';
import { ago, clock, json } from '../lib/format';
import { parseUnifiedDiff } from '../lib/diff';
import { Action, Badge, Card, Empty, ErrorBox, LiveData } from '../components';
import { RunTerminal } from './terminal';
import type { PageProps } from '../app';

interface Run { id: string; agent_id: string; adapter: string; task: string; status: string; branch: string; error: string | null; exit_code: number | null; created_at: string; updated_at: string; project_id: string | null }

export function Runs({ path }: PageProps) {
  const runId = path.split('/')[2];
  const runs = useLive(() => api.get<{ items: Run[] }>(`/api/runs${q({ limit: 100 })}`), ['runs.*']);
  return (
    <div class="page">
      <h1>Runs</h1>
      <div class="split">
        <Card title="Runs" class="split-side">
          <LiveData live={runs}>{d => d.items.length === 0 ? <Empty>No runs yet. Runs are started with POST /api/runs for a cli agent.</Empty> : (
            <ul class="list">{d.items.map(r => (
              <li key={r.id}><a {...href(`/runs/${r.id}`)} class={r.id === runId ? 'active' : ''} data-run={r.id}>
                <span class="row"><Badge value={r.status} /><b class="ellipsis">{r.task}</b></span>
                <small class="muted">{r.adapter} · {ago(r.created_at)}</small></a></li>
            ))}</ul>
          )}</LiveData>
        </Card>
        <div class="split-main">
          {runId ? <RunDetail key={runId} id={runId} /> : <Card><Empty>Pick a run to see its terminal, timeline and diff.</Empty></Card>}
        </div>
      </div>
    </div>
  );
}

function RunDetail({ id }: { id: string }) {
  const run = useLive(() => api.get<Run>(`/api/runs/${id}`), ['runs.*'], [id]);
  const [message, setMessage] = useState('');
  const [branch, setBranch] = useState('');
  const [notice, setNotice] = useState('');
  const act = (verb: string, body: unknown = {}) => async () => {
    const r = await api.post(`/api/runs/${id}/${verb}`, body);
    setNotice(`${verb}: ${json(r, 400)}`);
    run.reload();
  };
  return (
    <LiveData live={run}>{r => {
      const running = r.status === 'running';
      return (
        <div class="stack">
          <Card title={<>Run <span class="mono">{r.id}</span> <Badge value={r.status} /></>}>
            <p>{r.task}</p>
            <div class="kv"><span>Branch</span><span class="mono">{r.branch}</span><span>Adapter</span><span>{r.adapter}</span><span>Started</span><span>{clock(r.created_at)}</span>
              {r.error && <><span>Error</span><span class="error-text">{r.error}</span></>}</div>
            <div class="row wrap">
              <Action disabled={!running} onRun={act('pause')}>Pause</Action>
              <Action disabled={running || r.status === 'queued'} onRun={act('continue', message.trim() ? { message: message.trim() } : {})}>Continue</Action>
              <Action kind="danger" disabled={!running && r.status !== 'queued'} onRun={act('cancel')}>Cancel</Action>
            </div>
            <RunTerminal runId={r.id} live={running} />
          </Card>
          <Card title="Changes" actions={<>
            <input placeholder="Commit message" value={message} onInput={e => setMessage(e.currentTarget.value)} />
            <Action kind="primary" disabled={!message.trim() || running} onRun={act('commit', { message: message.trim() })}>Commit</Action>
            <input placeholder="New branch name" value={branch} onInput={e => setBranch(e.currentTarget.value)} />
            <Action disabled={!branch.trim() || running} onRun={act('rename-branch', { name: branch.trim() })}>Rename branch</Action>
            <Action disabled={running} onRun={act('push')}>Push</Action>
            <Action disabled={running} onRun={act('accept')}>Accept</Action>
            <Action kind="danger" disabled={running} onRun={act('revert')}>Revert</Action>
          </>}>
            {notice && <div class="notice">{notice}</div>}
            <RunDiff id={r.id} />
          </Card>
          <Card title="Timeline"><RunTimeline id={r.id} /></Card>
        </div>
      );
    }}</LiveData>
  );
}

function RunDiff({ id }: { id: string }) {
  const changes = useLive(() => api.get<{ items: Array<{ repo: string; branch: string; diff: string }> }>(`/api/runs/${id}/changes`), ['runs.*'], [id]);
  return (
    <LiveData live={changes}>{d => {
      const files = d.items.flatMap(repo => parseUnifiedDiff(repo.diff).map(f => ({ ...f, repo: repo.repo })));
      if (!files.length) return <Empty>No changes in the worktree.</Empty>;
      return (
        <div class="diff" data-testid="diff">
          {files.map(f => (
            <div class="diff-file" key={`${f.repo}/${f.path}`}>
              <div class="diff-head"><b>{f.repo}/{f.path}</b> <span class="ok-text">+{f.additions}</span> <span class="bad-text">−{f.deletions}</span></div>
              <table class="diff-table"><colgroup><col class="ln-col" /><col /><col class="ln-col" /><col /></colgroup><tbody>
                {f.rows.map((row, i) => row.kind === 'hunk'
                  ? <tr key={i} class="hunk"><td colSpan={4}>{row.text}</td></tr>
                  : (
                    <tr key={i}>
                      <td class="ln">{row.left?.n ?? ''}</td><td class={row.left?.removed ? 'del' : row.left ? '' : 'blank'}>{row.left?.text ?? ''}</td>
                      <td class="ln">{row.right?.n ?? ''}</td><td class={row.right?.added ? 'add' : row.right ? '' : 'blank'}>{row.right?.text ?? ''}</td>
                    </tr>
                  ))}
              </tbody></table>
            </div>
          ))}
        </div>
      );
    }}</LiveData>
  );
}

/** The run's event log over SSE; terminal output is left to the terminal. */
function RunTimeline({ id }: { id: string }) {
  const [items, setItems] = useState<Array<{ seq: number; type: string; time: string; data: any }>>([]);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const c = new AbortController();
    stream(`/api/runs/${id}/events/stream`, undefined, (_event, data) => {
      if (data?.type === 'terminal.output') return;
      setItems(list => [...list.slice(-499), data]);
    }, c.signal).catch(err => { if (err.name !== 'AbortError') setError(err); });
    return () => c.abort();
  }, [id]);
  return (
    <>
      <ErrorBox error={error} />
      {items.length === 0 ? <Empty>No events yet.</Empty> : (
        <ol class="timeline">{items.map(e => (
          <li key={e.seq}><time>{clock(e.time)}</time><b>{e.type}</b><span class="sub mono">{json(e.data, 200).replace(/\s+/g, ' ')}</span></li>
        ))}</ol>
      )}
    </>
  );
}
