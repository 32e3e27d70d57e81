import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText, stream } from '../lib/api';
import { applyFrame, type Turn } from '../lib/turns';
import { useLive } from '../lib/ws';
import { href, navigate } from '../lib/router';
import { ago, json } from '../lib/format';
import { Action, Card, Empty, ErrorBox, LiveData, Spinner } from '../components';
import type { PageProps } from '../app';

interface Agent { id: string; name: string; kind: string; model: string }
interface SessionRow { id: string; agent_name: string; name: string | null; created_at: string }

export function Chat({ path }: PageProps) {
  const sessionId = path.split('/')[2];
  const agents = useLive(() => api.get<{ items: Agent[] }>('/api/agents?limit=200'), ['plugin.*']);
  const sessions = useLive(() => api.get<{ items: SessionRow[] }>('/api/sessions?limit=50'), ['agent.session.created']);
  const [agent, setAgent] = useState('');
  const llmAgents = agents.data?.items.filter(a => a.kind === 'llm') ?? [];
  const chosen = agent || llmAgents[0]?.name || '';

  const newSession = async () => {
    const s = await api.post<SessionRow>('/api/sessions', { agent: chosen });
    sessions.reload();
    navigate(`/chat/${s.id}`);
  };

  return (
    <div class="page chat-page">
      <h1>Chat</h1>
      <div class="chat-layout">
        <Card title="Sessions" class="chat-side">
          <div class="stack">
            <label class="field"><span>Agent</span>
              <select data-testid="agent-select" value={chosen} onChange={e => setAgent(e.currentTarget.value)}>
                {llmAgents.map(a => <option key={a.id} value={a.name}>{a.name} ({a.model})</option>)}
              </select>
            </label>
            <Action kind="primary" disabled={!chosen} onRun={newSession} testid="new-session">New session</Action>
            <ErrorBox error={agents.error} />
          </div>
          <LiveData live={sessions}>{d => d.items.length === 0 ? <Empty>No sessions yet.</Empty> : (
            <ul class="list">
              {d.items.map(s => (
                <li key={s.id}><a {...href(`/chat/${s.id}`)} class={s.id === sessionId ? 'active' : ''}>
                  <b>{s.name ?? s.agent_name}</b><small class="muted">{ago(s.created_at)}</small></a></li>
              ))}
            </ul>
          )}</LiveData>
        </Card>
        {sessionId ? <Conversation key={sessionId} sessionId={sessionId} /> : <Card><Empty>Pick an agent and start a session.</Empty></Card>}
      </div>
    </div>
  );
}

function Conversation({ sessionId }: { sessionId: string }) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>();
  const [text, setText] = useState('');
  const [sending, setSending] = useState<AbortController | null>(null);
  const endRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api.get<{ items: Array<{ event: string; data: any }> }>(`/api/sessions/${sessionId}/replay`).then(r => {
      setTurns(r.items.reduce((t, f) => applyFrame(t, f.event, f.data), [] as Turn[]));
    }, setError).finally(() => setLoading(false));
  }, [sessionId]);
  useEffect(() => { endRef.current?.scrollIntoView({ block: 'end' }); }, [turns]);

  const send = async (e: Event) => {
    e.preventDefault();
    const message = text.trim();
    if (!message || sending) return;
    const controller = new AbortController();
    setSending(controller);
    setError(undefined);
    setText('');
    try {
      await stream(`/api/sessions/${sessionId}/messages`, { message }, (event, data) => setTurns(t => applyFrame(t, event, data)), controller.signal);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') { setError(err); setText(message); }
    } finally {
      setSending(null);
    }
  };

  return (
    <Card title="Conversation" class="chat-main" actions={<small class="muted mono">{sessionId}</small>}>
      <div class="messages" data-testid="messages">
        {loading && <Spinner label="Loading history…" />}
        {!loading && turns.length === 0 && <Empty>Say something. Try <code>/tool memory.search {'{"query":"hello"}'}</code> with the builtin model.</Empty>}
        {turns.map(t => <TurnView key={t.turnId} turn={t} />)}
        <div ref={endRef} />
      </div>
      <ErrorBox error={error} onClose={() => setError(undefined)} />
      <form class="composer" onSubmit={send}>
        <textarea data-testid="chat-input" rows={2} placeholder="Message (Enter sends, Shift+Enter for a new line)" value={text}
          onInput={e => setText(e.currentTarget.value)}
          onKeyDown={e => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); (e.currentTarget.form as HTMLFormElement).requestSubmit(); } }} />
        {sending
          ? <button type="button" class="danger" onClick={() => sending.abort()}>Stop</button>
          : <button type="submit" class="primary" data-testid="send" disabled={!text.trim()}>Send</button>}
      </form>
    </Card>
  );
}

function TurnView({ turn }: { turn: Turn }) {
  return (
    <div class="turn" data-turn={turn.turnId} data-status={turn.status}>
      {turn.user && <div class="bubble user">{turn.user}</div>}
      <div class="bubble agent">
        {turn.parts.map((p, i) => p.type === 'text'
          ? <div key={i} class="text">{p.text}</div>
          : (
            <details key={i} class={`tool ${p.result ? (p.result.ok ? 'ok' : 'bad') : 'waiting'}`} open data-testid="tool-call">
              <summary>
                <b>{p.name}</b>
                {p.result ? <span class="muted"> {p.result.ok ? 'returned' : 'failed'}</span> : <span class="muted"> running… <a {...href('/approvals')}>(needs an approval?)</a></span>}
              </summary>
              <div class="tool-io">
                <div><small>input</small><pre class="json">{prettyArgs(p.arguments)}</pre></div>
                {p.result && <div><small>result</small><pre class="json" data-testid="tool-result">{json(p.result.output, 3000)}</pre></div>}
              </div>
            </details>
          ))}
        {turn.status === 'streaming' && <span class="cursor" aria-label="streaming">▍</span>}
        {turn.status === 'error' && <div class="error-text">{turn.error}</div>}
        {turn.status === 'done' && (
          <div class="turn-foot">
            <small class="muted">{turn.usage ? `${turn.usage.inputTokens ?? 0} in · ${turn.usage.outputTokens ?? 0} out tokens` : ''}{turn.partial ? ' · partial' : ''}</small>
            <Grade turnId={turn.turnId} />
            <Tips turnId={turn.turnId} />
          </div>
        )}
      </div>
    </div>
  );
}

function prettyArgs(args: string): string {
  try { return JSON.stringify(JSON.parse(args), null, 2); } catch { return args; }
}

/** The insights plugin's heuristic tips on a turn, fetched when asked for; hidden without that plugin. */
function Tips({ turnId }: { turnId: string }) {
  const [tips, setTips] = useState<Array<{ code: string; severity: string; message: string }> | null | undefined>();
  const [error, setError] = useState<unknown>();
  const load = async () => {
    setError(undefined);
    try { setTips((await api.get<{ items: any[] }>(`/api/turns/${turnId}/tips`)).items); } catch (err: any) {
      if (err?.status === 404) setTips(null); else setError(err);
    }
  };
  if (tips === null) return null;
  return (
    <div class="tips" data-testid="turn-tips">
      {tips === undefined ? <button class="link" onClick={load}>Tips</button>
        : tips.length === 0 ? <small class="muted">No tips for this turn.</small>
        : <ul>{tips.map(t => <li key={t.code}><b>{t.severity}</b> {t.message}</li>)}</ul>}
      {error !== undefined && <small class="error-text"> {errorText(error)}</small>}
    </div>
  );
}

/** Feedback on a turn: 1–5; POST the first time, PUT to change it. */
function Grade({ turnId }: { turnId: string }) {
  const [grade, setGrade] = useState<number | null>(null);
  const [error, setError] = useState<unknown>();
  const rate = async (g: number) => {
    setError(undefined);
    try {
      try { await api.post(`/api/turns/${turnId}/feedback`, { grade: g }); } catch (err: any) {
        if (err?.status !== 409) throw err;
        await api.put(`/api/turns/${turnId}/feedback`, { grade: g });
      }
      setGrade(g);
    } catch (err) { setError(err); }
  };
  return (
    <span class="grade" title={error ? errorText(error) : 'Grade this answer'}>
      {[1, 2, 3, 4, 5].map(g => <button key={g} class={grade !== null && g <= grade ? 'star on' : 'star'} onClick={() => rate(g)} aria-label={`grade ${g}`}>★</button>)}
      {error !== undefined && <small class="error-text"> {errorText(error)}</small>}
    </span>
  );
}
