import { assertOwner, decodeCursor, errors, ownerFilter, pageOf, type HttpRouter } from 'plinth/sdk';
import type { ApprovalRequest, ApprovalStore } from './approval-store';
import { view, type ApprovalService } from './approval-service';
import { AnswerBody, AskBody, DenyBody, IdParams, ListQuery, TurnParams } from './schemas';

const positionOf = (row: ApprovalRequest) => ({ ms: Date.parse(row.createdAt), id: row.id });

export interface ApprovalRouteDeps { store: ApprovalStore; service: ApprovalService; questionWaitCapMs: number }

/** `/api/approvals`, the blocking questions, answers and the audit of one turn's decisions. */
export function registerRoutes(http: HttpRouter, { store, service, questionWaitCapMs }: ApprovalRouteDeps): void {
  const owned = async (id: string, user: any) => {
    const r = await service.find(id);
    if (!r) throw errors.notFound(`approval ${id}`);
    assertOwner(user, r.requester, `approval ${id}`);
    return r;
  };

  http.get('/', { auth: 'user', query: ListQuery, summary: 'Approval requests and questions, newest first' }, async req => {
    const q = req.query as any;
    const rows = await store.list({ owner: ownerFilter(req.user), state: q.state, kind: q.kind, limit: q.limit, cursor: decodeCursor(q.cursor) });
    return pageOf(rows, q.limit, positionOf, view);
  });
  http.get('/:id', { auth: 'user', params: IdParams }, async req => view(await owned(req.params.id, req.user)));
  http.post('/:id/approve', { auth: 'user', params: IdParams, body: DenyBody }, async req => {
    await owned(req.params.id, req.user);
    return service.decide(req.params.id, { approved: true, reason: (req.body as any)?.reason, by: req.user! });
  });
  http.post('/:id/deny', { auth: 'user', params: IdParams, body: DenyBody }, async req => {
    await owned(req.params.id, req.user);
    return service.decide(req.params.id, { approved: false, reason: (req.body as any)?.reason, by: req.user! });
  });

  http.post('/api/questions/ask-blocking', { auth: 'user', body: AskBody, summary: 'Ask a question and hold the connection until it is answered or the wait cap passes' }, async req => {
    const b = req.body as any;
    if (b.type === 'choice' && !b.choices) throw errors.validation('a choice question needs choices', [{ field: 'body/choices', message: 'required when type is choice' }]);
    const waitMs = Math.min(b.wait_ms ?? questionWaitCapMs, questionWaitCapMs);
    const r = await service.ask(req.user!, {
      text: b.question, type: b.tool_permission ? 'boolean' : b.type, choices: b.choices, toolPermission: b.tool_permission,
      waitMs, tool: b.tool, sessionId: b.session_id, jobId: b.job_id, turnId: b.turn_id,
    });
    return { id: r.id, state: r.state, answer: r.answer ?? null, answered: r.decidedBy !== 'timeout' && r.state !== 'expired', reason: r.reason ?? null };
  });
  http.post('/api/answer', { auth: 'user', body: AnswerBody, summary: 'Answer a pending question' }, async req => {
    const b = req.body as any;
    await owned(b.id, req.user);
    return view(await service.answer(b.id, req.user!, b.answer, b.reason));
  });

  http.get('/api/audit/tools/:turn_id', { auth: 'user', params: TurnParams, summary: 'Tool approval decisions of one turn' },
    async req => ({ items: await store.auditFor(req.params.turn_id, 'tool', ownerFilter(req.user)), nextCursor: null }));
  http.get('/api/audit/policy/:turn_id', { auth: 'user', params: TurnParams, summary: 'Policy decisions (risk overrides, auto-approvals) of one turn' },
    async req => ({ items: await store.auditFor(req.params.turn_id, 'policy', ownerFilter(req.user)), nextCursor: null }));
}
