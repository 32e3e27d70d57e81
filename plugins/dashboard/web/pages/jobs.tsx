import { useEffect, useRef, useState } from 'preact/hooks';
import { api, download, q, stream } from '../lib/api';
import { useLive } from '../lib/ws';
import { href, navigate } from '../lib/router';
import { ago, clock, json } from '../lib/format';
import { Action, Badge, Card, Empty, ErrorBox, Field, Json, LiveData, Spinner } from '../components';
import { CrewGraph } from './crew-graph';
import { Schedules } from './schedules';
import type { PageProps } from '../app';

export interface JobRow {
  id: string; kind: string; title: string | null; state: string; attempts: number; maxRetries: number; error: string | null;
  crewId: string | null; step: string | null; createdAt: string; updatedAt: string; result?: unknown; request?: unknown; feedback?: string | null;
}

const COLUMNS = ['queued', 'ready', 'running', 'blocked', 'done', 'failed', 'cancelled'];

export function Jobs({ path }: PageProps) {
  const jobId = path.split('/')[2];
  const jobs = useLive(() => api.get<{ items: JobRow[] }>(`/api/jobs${q({ view: 'summary', limit: 300 })}`), ['job.updated']);
  const [tab, setTab] = useState<'board' | 'schedules'>('board');
  return (
    <div class="page">
      <div class="title-row">
        <h1>Jobs</h1>
        <div class="tabs">
          <button class={tab === 'board' ? 'tab active' : 'tab'} onClick={() => setTab('board')}>Board</button>
          <button class={tab === 'schedules' ? 'tab active' : 'tab'} onClick={() => setTab('schedules')} data-testid="schedules-tab">Schedules</button>
        </div>
      </div>
      {tab === 'schedules' ? <Schedules /> : (
        <>
          <NewJob onCreated={id => { jobs.reload(); navigate(`/jobs/${id}`); }} />
          <LiveData live={jobs}>{d => (
            <div class="board" data-testid="job-board">
              {COLUMNS.map(state => {
                const items = d.items.filter(j => j.state === state);
                return (
                  <div class="column" key={state} data-state={state}>
                    <h3><Badge value={state} /> <small class="muted">{items.length}</small></h3>
                    {items.map(j => (
                      <a key={j.id} {...href(`/jobs/${j.id}`)} class={`job-card ${j.id === jobId ? 'active' : ''}`} data-job={j.id}>
                        <b>{j.title ?? j.kind}</b>
                        <small class="muted">{j.kind}{j.step ? ` · ${j.step}` : ''} · try {j.attempts}/{j.maxRetries + 1}</small>
                        <small class="muted">{ago(j.updatedAt)}</small>
                      </a>
                    ))}
                  </div>
                );
              })}
            </div>
          )}</LiveData>
          {jobId && <JobDetail key={jobId} id={jobId} />}
        </>
      )}
    </div>
  );
}

function NewJob({ onCreated }: { onCreated: (id: string) => void }) {
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState('command');
  const [title, setTitle] = useState('');
  const [request, setRequest] = useState('{ "command": "echo hello" }');
  if (!open) return <div class="row"><button class="plain" onClick={() => setOpen(true)}>New job…</button></div>;
  return (
    <Card title="New job" actions={<button class="link" onClick={() => setOpen(false)}>Close</button>}>
      <div class="form-grid">
        <Field label="Kind"><select value={kind} onChange={e => { setKind(e.currentTarget.value); setRequest(e.currentTarget.value === 'agent' ? '{ "agent": "assistant", "message": "hello" }' : '{ "command": "echo hello" }'); }}>
          <option value="command">command</option><option value="agent">agent</option></select></Field>
        <Field label="Title"><input value={title} onInput={e => setTitle(e.currentTarget.value)} /></Field>
        <Field label="Request (JSON)"><textarea rows={3} class="mono" value={request} onInput={e => setRequest(e.currentTarget.value)} /></Field>
      </div>
      <Action kind="primary" onRun={async () => {
        let parsed: unknown;
        try { parsed = JSON.parse(request); } catch (err) { throw new Error(`The request is not valid JSON: ${(err as Error).message}`); }
        const job = await api.post<JobRow>('/api/jobs', { kind, request: parsed, ...(title.trim() ? { title: title.trim() } : {}) });
        setOpen(false);
        onCreated(job.id);
      }}>Create</Action>
    </Card>
  );
}

interface JobDetailData {
  job: JobRow; attempts: Array<{ n: number; startedAt: string; endedAt: string | null; outcome: string | null; error: string | null }>;
  events: Array<{ seq: number; type: string; data: any; at: string }>; comments: Array<{ id: string; author: string; text: string; at?: string; createdAt?: string }>;
  artifact: { name: string; attempt: number; mediaType: string; size: number } | null;
}

function JobDetail({ id }: { id: string }) {
  const detail = useLive(() => api.get<JobDetailData>(`/api/jobs/${id}`), ['job.updated'], [id]);
  const [feedback, setFeedback] = useState('');
  const [comment, setComment] = useState('');
  const act = (verb: string, body: unknown = {}) => async () => { await api.post(`/api/jobs/${id}/${verb}`, body); detail.reload(); };
  return (
    <Card title={<>Job <span class="mono">{id}</span></>} actions={<a {...href('/jobs')} class="link">Close</a>} class="job-detail">
      <LiveData live={detail}>{d => {
        const s = d.job.state;
        return (
          <div class="grid-2">
            <div class="stack">
              <div class="kv">
                <span>Title</span><b>{d.job.title ?? '—'}</b>
                <span>State</span><span><Badge value={s} /> {d.job.error && <span class="error-text">{d.job.error}</span>}</span>
                <span>Kind</span><span>{d.job.kind}</span>
                <span>Attempts</span><span>{d.job.attempts} of {d.job.maxRetries + 1}</span>
                <span>Created</span><span>{clock(d.job.createdAt)}</span>
              </div>
              <div class="row wrap">
                <Action kind="danger" disabled={!['queued', 'ready', 'running', 'blocked'].includes(s)} onRun={act('cancel')}>Cancel</Action>
                <Action disabled={s !== 'blocked'} onRun={act('unblock')}>Unblock</Action>
                <Action disabled={!['done', 'failed', 'blocked'].includes(s)} onRun={act('redo', feedback.trim() ? { feedback: feedback.trim() } : {})}>Redo</Action>
                <Action disabled={!['done', 'failed', 'cancelled'].includes(s)} onRun={act('archive')}>Archive</Action>
              </div>
              <input placeholder="Feedback for a redo (optional)" value={feedback} onInput={e => setFeedback(e.currentTarget.value)} />
              <h3>Request</h3><Json value={d.job.request} />
              {d.job.result !== null && d.job.result !== undefined && <><h3>Result</h3><Json value={d.job.result} /></>}
              {d.artifact && <JobArtifact id={id} artifact={d.artifact} />}
              <h3>Comments</h3>
              {d.comments.length === 0 ? <Empty>No comments.</Empty> : <ul class="list">{d.comments.map(c => <li key={c.id}><b>{c.author}</b> {c.text}</li>)}</ul>}
              <form class="row" onSubmit={e => e.preventDefault()}>
                <input class="grow" placeholder="Add a comment" value={comment} onInput={e => setComment(e.currentTarget.value)} />
                <Action disabled={!comment.trim()} onRun={async () => { await api.post(`/api/jobs/${id}/comments`, { text: comment.trim() }); setComment(''); detail.reload(); }}>Comment</Action>
              </form>
            </div>
            <div class="stack">
              <h3>Crew</h3>
              <CrewGraph jobId={id} />
              <h3>Log</h3>
              <JobLog id={id} />
              <h3>Attempts</h3>
              <table class="table"><tbody>{d.attempts.map(a => <tr key={a.n}><td>#{a.n}</td><td><Badge value={a.outcome ?? 'running'} /></td><td>{clock(a.startedAt)}</td><td class="error-text">{a.error}</td></tr>)}</tbody></table>
            </div>
          </div>
        );
      }}</LiveData>
    </Card>
  );
}

/** The file the latest attempt kept: a download link, and text or Markdown shown as the server's sanitized HTML. */
function JobArtifact({ id, artifact }: { id: string; artifact: NonNullable<JobDetailData['artifact']> }) {
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const text = artifact.mediaType.startsWith('text/') || /json|xml|yaml|markdown/.test(artifact.mediaType);
  const path = `/api/jobs/${id}/artifact`;
  useEffect(() => {
    setHtml(null);
    if (text) api.get<string>(`${path}?format=html`).then(setHtml, setError);
  }, [id, artifact.attempt, artifact.name]);
  const filename = artifact.name.split('/').pop()!;
  return (
    <div data-testid="job-artifact">
      <h3>Artifact</h3>
      <div class="row">
        <a href={`${path}?download=1`} class="link" data-testid="artifact-download" onClick={e => { e.preventDefault(); download(`${path}?download=1`, filename).catch(setError); }}>{artifact.name}</a>
        <small class="muted">{artifact.size} bytes, attempt {artifact.attempt}</small>
      </div>
      <ErrorBox error={error} />
      {/* Sanitized by the server (sanitize-html); the page's CSP blocks inline scripts besides. */}
      {html !== null && <div class="artifact-view" data-testid="artifact-view" dangerouslySetInnerHTML={{ __html: html }} />}
    </div>
  );
}

/** The job's state events and output lines over SSE (replayed, then live until the job ends). */
function JobLog({ id }: { id: string }) {
  const [lines, setLines] = useState<Array<{ id?: string; kind: string; text: string; at?: string }>>([]);
  const [state, setState] = useState<'live' | 'ended' | 'error'>('live');
  const [error, setError] = useState<unknown>();
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const c = new AbortController();
    setLines([]);
    stream(`/api/jobs/${id}/stream`, undefined, (event, data, eid) => {
      const text = event === 'log' ? String(data.line ?? '') : event === 'state' ? `→ ${data.state}${data.reason ? ` (${data.reason})` : ''}${data.error ? `: ${data.error}` : ''}`
        : event === 'artifact' ? `→ artifact ${data.name} (${data.size} bytes)` : `${event} ${json(data, 300)}`;
      setLines(l => [...l.slice(-1999), { id: eid, kind: event, text, at: data?.at }]);
    }, c.signal).then(() => setState('ended'), err => { if (err.name !== 'AbortError') { setError(err); setState('error'); } });
    return () => c.abort();
  }, [id]);
  useEffect(() => { if (box.current) box.current.scrollTop = box.current.scrollHeight; }, [lines]);
  return (
    <>
      <ErrorBox error={error} />
      <pre class="log" ref={box} data-testid="job-log">{lines.map((l, i) => <div key={l.id ?? i} class={`log-${l.kind}`}>{l.text}</div>)}</pre>
      <small class="muted">{state === 'live' ? <Spinner label="streaming" /> : state === 'ended' ? 'stream ended with the job' : ''}</small>
    </>
  );
}
