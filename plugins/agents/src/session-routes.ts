import { DEVICE_SCOPE, errors, reply, type HttpRouter, type RouteRequest, type SseMessage, type User } from 'plinth/sdk';
import type { AgentLoop } from './agent-loop';
import type { AttachmentStore } from './attachment-store';
import type { Frame, FrameLog } from './frame-log';
import type { SessionRecord, SessionStore, StoredMessage } from './session-store';
import type { SessionNicknames } from './session-nicknames';
import { AgentMessageBody, AttachmentQuery, IdParams, NicknameBackfillBody, Pagination, SessionCreateBody, SessionMessageBody, SessionNameParams } from './schemas';
import { DEFAULT_AGENT } from './agent-store';

export interface SessionRouteDeps { runtime: AgentLoop; sessions: SessionStore; frames: FrameLog; attachments: AttachmentStore; nicknames: SessionNicknames }

const wantsSse = (req: RouteRequest) => String(req.headers.accept ?? '').includes('text/event-stream');
const toSse = (f: Frame): SseMessage => ({ id: f.id, event: f.event, data: f.data });
const isLast = (f: Frame) => f.event === 'done' || f.event === 'error';

export function registerSessionRoutes(http: HttpRouter, d: SessionRouteDeps): void {
  const { runtime, sessions, frames, attachments } = d;

  /** Runs one turn and answers it as SSE frames (live) or as JSON once done. */
  async function answer(req: RouteRequest, session: SessionRecord, body: { message: string; attachments?: string[] }) {
    const user = req.user!;
    if (body.attachments?.length) await attachments.assertUsable(body.attachments, user);
    if (runtime.isBusy(session.id)) throw errors.conflict(`session ${session.id} is answering another message; wait for its done frame`);
    const turn = { session, user, message: body.message, attachments: body.attachments, signal: req.signal, via: 'api' };
    if (!wantsSse(req)) {
      const result = await runtime.runSessionTurn(turn);
      if (result.error) throw result.error;
      return { sessionId: result.sessionId, turnId: result.turnId, text: result.text, usage: result.usage, partial: result.partial };
    }
    const sse = req.sse();
    const off = frames.subscribe(session.id, f => sse.send(toSse(f)));
    try {
      await runtime.runSessionTurn(turn);
    } finally {
      off();
      sse.close();
    }
  }

  /** Frames after Last-Event-ID from the log, then live ones until the running turn ends. */
  async function resume(req: RouteRequest, session: SessionRecord) {
    const replayed = await frames.after(session.id, req.headers['last-event-id'] as string | undefined ?? req.query.last_event_id as string | undefined);
    const sse = req.sse();
    if (!runtime.isBusy(session.id)) {
      for (const f of replayed) sse.send(toSse(f));
      sse.close();
      return;
    }
    await sse.replayThenLive<Frame>({
      replay: () => replayed,
      live: push => frames.subscribe(session.id, push),
      frame: toSse,
      isLast: f => isLast(f),
    });
  }

  http.post('/api/sessions', { auth: 'user', scope: DEVICE_SCOPE, body: SessionCreateBody, summary: 'Start a session with an agent' }, async req => {
    const session = await runtime.createSession(req.user!, req.body);
    return reply(201, session);
  });
  http.get('/api/sessions', { auth: 'user', scope: DEVICE_SCOPE, query: Pagination, summary: 'Your sessions, newest first' }, req =>
    sessions.list(req.user!.id, req.query.limit as number, req.query.cursor as string | undefined));
  http.get('/api/sessions/:id', { auth: 'user', scope: DEVICE_SCOPE, params: IdParams }, async req => {
    const session = await sessions.getOwned(req.params.id, req.user);
    return { ...session, busy: runtime.isBusy(session.id) };
  });
  const removeSession = async (session: SessionRecord) => {
    if (runtime.isBusy(session.id)) throw errors.conflict(`session ${session.id} is answering; delete it once the turn is done`);
    await frames.flush(session.id);
    await sessions.remove(session.id);
    frames.forget(session.id);
  };
  http.delete('/api/sessions/:id', { auth: 'user', params: IdParams }, async req => removeSession(await sessions.getOwned(req.params.id, req.user)));
  http.post('/api/sessions/backfill-nicknames', {
    auth: 'user', body: NicknameBackfillBody,
    summary: 'Give your sessions without one a short nickname from the model (the oldest first, limit per call); answers what was named, skipped, failed, and how many remain',
  }, async req => {
    const body = req.body as { limit: number; force: boolean; model?: string };
    if (body.model) runtime.assertModelKnown(body.model);
    return d.nicknames.backfill(req.user!, body);
  });
  http.post('/api/sessions/:id/close', { auth: 'user', params: IdParams, summary: 'Close a session: a turn it is running stops, its history stays, it takes no more messages' }, async req => {
    const session = await sessions.getOwned(req.params.id, req.user);
    runtime.stopTurn(session.id);
    return { ...(await sessions.close(session.id)), busy: runtime.isBusy(session.id) };
  });
  http.get('/api/sessions/:id/messages', { auth: 'user', scope: DEVICE_SCOPE, params: IdParams, query: Pagination }, async req => {
    await sessions.getOwned(req.params.id, req.user);
    return sessions.messages(req.params.id, req.query.limit as number, req.query.cursor as string | undefined);
  });
  http.post('/api/sessions/:id/messages', {
    auth: 'user', scope: DEVICE_SCOPE, params: IdParams, body: SessionMessageBody,
    summary: 'Send a message; with Accept: text/event-stream the answer streams as chunk frames then done or error. With Last-Event-ID, resumes the stream instead',
  }, async req => {
    const session = await sessions.getOwned(req.params.id, req.user);
    if (req.headers['last-event-id'] !== undefined) return resume(req, session);
    return answer(req, session, req.body);
  });
  http.get('/api/sessions/:id/stream', { auth: 'user', scope: DEVICE_SCOPE, params: IdParams, summary: 'Resume the frames of a session after Last-Event-ID (header or last_event_id query)' }, async req =>
    resume(req, await sessions.getOwned(req.params.id, req.user)));
  const replay = async (req: RouteRequest, session: SessionRecord) => {
    const replayed = reframe(await sessions.allMessages(session.id));
    if (!wantsSse(req)) return { items: replayed, nextCursor: null };
    const sse = req.sse();
    for (const f of replayed) sse.send(toSse(f));
    sse.close();
  };
  http.get('/api/sessions/:id/replay', { auth: 'user', params: IdParams, summary: 'The stored history re-framed as message, chunk and done frames (SSE, or JSON items)' }, async req =>
    replay(req, await sessions.getOwned(req.params.id, req.user)));

  // Sessions by name (the agent runtime's routes): a name picks the caller's newest session of that name.
  http.get('/api/sessions/names', { auth: 'user', summary: 'Your session names, each with its newest session' }, async req => ({ items: await sessions.names(req.user!.id), nextCursor: null }));
  http.get('/api/sessions/by-name/:name/replay', { auth: 'user', params: SessionNameParams, summary: 'The replay of your newest session of that name (SSE, or JSON items)' }, async req =>
    replay(req, await sessions.byName(req.user!.id, req.params.name)));
  http.delete('/api/sessions/by-name/:name', { auth: 'user', params: SessionNameParams, summary: 'Delete your newest session of that name' }, async req =>
    removeSession(await sessions.byName(req.user!.id, req.params.name)));

  // ------------------------------------------------------------ one-shot

  async function oneShotSession(user: User, body: { agent?: string; sessionId?: string; model?: string }): Promise<SessionRecord> {
    if (body.sessionId) {
      const session = await sessions.getOwned(body.sessionId, user);
      if (body.agent && body.agent !== session.agent_name && body.agent !== session.agent_id) throw errors.conflict(`session ${session.id} belongs to agent "${session.agent_name}"`);
      return session;
    }
    return runtime.createSession(user, { agent: body.agent ?? DEFAULT_AGENT, model: body.model, via: 'api:one-shot' });
  }
  http.post('/api/agent/message', { auth: 'user', scope: DEVICE_SCOPE, body: AgentMessageBody, summary: 'One message to an agent (default: assistant), answered as JSON' }, async req => {
    const session = await oneShotSession(req.user!, req.body);
    req.headers.accept = 'application/json';
    return answer(req, session, req.body);
  });
  http.post('/api/agent/message/stream', { auth: 'user', scope: DEVICE_SCOPE, body: AgentMessageBody, summary: 'One message to an agent, answered as SSE frames' }, async req => {
    const session = await oneShotSession(req.user!, req.body);
    req.headers.accept = 'text/event-stream';
    return answer(req, session, req.body);
  });

  // ------------------------------------------------------------ attachments

  http.post('/api/attachments', { auth: 'user', rawBody: true, bodyLimit: attachments.maxBytes + 1, query: AttachmentQuery, summary: 'Upload a file (the raw bytes as body, its Content-Type set)' }, async req => {
    const row = await attachments.create(req.user!, req.rawBody, req.headers['content-type'] as string | undefined, req.query.filename as string | undefined);
    return reply(201, row);
  });
  http.get('/api/attachments/:id', { auth: 'user', params: IdParams, summary: 'Download an attachment (owner only)' }, async req => {
    const row = await attachments.get(req.params.id, req.user);
    return reply(200, attachments.read(row.id), { type: row.content_type, headers: { 'x-content-type-options': 'nosniff', 'content-disposition': 'attachment' } });
  });
}

/** Stored messages as the frames a live turn sent: message, chunks, then done for each turn. */
export function reframe(messages: StoredMessage[]): Frame[] {
  const out: Frame[] = [];
  let id = 0;
  const push = (event: Frame['event'], data: Record<string, unknown>) => out.push({ id: ++id, event, data });
  let open: { turnId: string | null; last?: StoredMessage } | undefined;
  const close = () => {
    if (!open) return;
    const last = open.last;
    push('done', { turnId: open.turnId, message: last ? { id: last.id, role: 'assistant', content: last.content, partial: last.partial } : null, partial: last?.partial ?? true });
    open = undefined;
  };
  for (const m of messages) {
    if (m.role === 'user') {
      close();
      open = { turnId: m.turn_id };
      push('message', { turnId: m.turn_id, message: m });
    } else if (m.role === 'assistant') {
      open ??= { turnId: m.turn_id };
      if (m.content) push('chunk', { turnId: m.turn_id, type: 'text', text: m.content });
      for (const call of m.tool_calls ?? []) push('chunk', { turnId: m.turn_id, type: 'tool_call', call });
      open.last = m;
    } else if (m.role === 'tool') {
      let output: unknown = m.content;
      try { output = JSON.parse(m.content); } catch { /* plain text output */ }
      const ok = !(output && typeof output === 'object' && 'error' in (output as object) && Object.keys(output as object).length === 1);
      push('chunk', { turnId: m.turn_id, type: 'tool_result', callId: m.tool_call_id, name: m.name, ok, output });
    }
  }
  close();
  return out;
}
