import { errors, newId, type SecretBox, type SqlRunner, type User } from 'plinth/sdk';
import type { AdminCall, AdminClient } from './admin-routes-client';
import { errorCodes } from './errors';
import type { Heard, ModelInterviewer } from './model-interviewer';
import { nextQuestion, PROVIDER_MODELS, SCRIPT, type Answers, type Question } from './script';

interface Row { id: string; owner: string; state: 'asking' | 'proposed' | 'applied' | 'failed'; answers: Answers; result: unknown }

export interface ConfigChange { path: string; before: unknown; after: unknown }
const MASK = '•••• (set)';

/**
 * The setup interview: scripted questions (the offline model's part), or free-form answers a
 * configured model turns into answers (model-interviewer.ts); each answer checked (a bad one is
 * asked again), then a proposal — the admin requests it would make and the changes they cause,
 * secrets masked — applied only when finish is called with confirm.
 */
export class SetupInterview {
  private readonly t: string;
  constructor(private readonly db: SqlRunner, private readonly box: SecretBox, private readonly now: () => number, private readonly interviewer?: ModelInterviewer) {
    this.t = db.table('interviews');
  }

  private iso() { return new Date(this.now()).toISOString(); }

  private async load(id: string, user: User): Promise<Row> {
    const [r] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ?`, [id]);
    // Each admin's own interview: another admin's is not found (it holds secrets they typed).
    if (!r || r.owner !== user.id) throw errors.notFound(`interview ${id}`);
    const stored = JSON.parse(r.answers) as Answers;
    const answers: Answers = {};
    for (const [k, v] of Object.entries(stored)) answers[k] = SCRIPT.find(q => q.key === k)?.secret ? this.box.decrypt(v) : v;
    return { id: r.id, owner: r.owner, state: r.state, answers, result: r.result ? JSON.parse(r.result) : null };
  }

  private async save(row: Row): Promise<void> {
    const stored: Answers = {};
    for (const [k, v] of Object.entries(row.answers)) stored[k] = SCRIPT.find(q => q.key === k)?.secret ? this.box.encrypt(v, `${row.id}:${k}`) : v;
    await this.db.query(`UPDATE ${this.t} SET state = ?, answers = ?, result = ?, updated_at = ? WHERE id = ?`,
      [row.state, JSON.stringify(stored), row.result === null ? null : JSON.stringify(row.result), this.iso(), row.id]);
  }

  private ask(row: Row, extra: Record<string, unknown> = {}) {
    const q = nextQuestion(row.answers);
    const asked = Object.keys(row.answers).length;
    return { id: row.id, state: row.state, done: !q, question: q ? { key: q.key, text: q.text, secret: !!q.secret } : null, answered: asked, ledBy: this.interviewer?.model ?? 'script', ...extra };
  }

  /** Whether any admin has applied an interview: the dashboard offers one until then (first start). */
  async status() {
    const [row] = await this.db.query(`SELECT updated_at FROM ${this.t} WHERE state = 'applied' ORDER BY updated_at DESC LIMIT 1`);
    return { completed: !!row, lastAppliedAt: row?.updated_at ?? null };
  }

  async start(user: User) {
    const id = newId('itv');
    await this.db.query(`INSERT INTO ${this.t} (id, owner, state, answers, result, created_at, updated_at) VALUES (?, ?, 'asking', '{}', NULL, ?, ?)`, [id, user.id, this.iso(), this.iso()]);
    return this.ask({ id, owner: user.id, state: 'asking', answers: {}, result: null }, { greeting: 'Let us set up Plinth: a model, an agent, and where people reach it.' });
  }

  async turn(id: string, user: User, answer: string, admin: AdminClient) {
    const row = await this.load(id, user);
    const q = nextQuestion(row.answers);
    if (row.state !== 'asking' || !q) throw errorCodes.error('PLINTH_ERR_INTERVIEW_STATE', `interview ${id} has no open question (state ${row.state}); call finish`);
    if (this.interviewer && !q.secret) return this.turnByModel(this.interviewer, row, q, answer, user, admin);
    return this.scriptedTurn(row, q, answer, admin);
  }

  private async scriptedTurn(row: Row, q: Question, answer: string, admin: AdminClient, extra: Record<string, unknown> = {}) {
    const checked = await this.check(q, answer, row.answers, admin);
    if (!checked.ok) return this.ask(row, { ...extra, retry: true, problem: checked.problem });
    row.answers[q.key] = checked.value;
    await this.save(row);
    return this.ask(row, extra);
  }

  /** The model proposes answers to any questions still open; each is checked as a typed one would be. */
  private async turnByModel(interviewer: ModelInterviewer, row: Row, open: Question, answer: string, user: User, admin: AdminClient) {
    let heard: Heard;
    try {
      heard = await interviewer.hear(answer, row.answers, open, user);
    } catch (err) {
      // The model is unreachable, out of quota or refused: the script takes the answer, so setup never depends on it.
      return this.scriptedTurn(row, open, answer, admin, { ledBy: 'script', modelError: (err as Error)?.message ?? String(err) });
    }
    const recorded: string[] = [];
    const problems: Array<{ key: string; problem: string }> = [];
    for (const q of SCRIPT) {
      if (q.secret || q.key in row.answers || !(q.key in heard.proposed) || (q.when && !q.when(row.answers))) continue;
      const checked = await this.check(q, heard.proposed[q.key], row.answers, admin);
      if (checked.ok) { row.answers[q.key] = checked.value; recorded.push(q.key); } else problems.push({ key: q.key, problem: checked.problem });
    }
    if (recorded.length) await this.save(row);
    const extra = { said: heard.said, recorded, problems, usage: heard.usage };
    if (recorded.length) return this.ask(row, extra);
    return this.ask(row, { ...extra, retry: true, problem: problems[0]?.problem ?? `that did not answer: ${open.text}` });
  }

  private async check(q: Question, answer: string, answers: Answers, admin: AdminClient) {
    const checked = q.check(answer, answers);
    if (!checked.ok || q.key !== 'agentName') return checked;
    const existing = await admin({ method: 'GET', path: '/api/agents' });
    if ((existing.body?.items ?? []).some((a: any) => a.name === checked.value)) return { ok: false as const, problem: `an agent named ${checked.value} exists already; choose another name` };
    return checked;
  }

  /** Without confirm: the proposal. With confirm: the same requests, made in order as the admin. */
  async finish(id: string, user: User, confirm: boolean, admin: AdminClient) {
    const row = await this.load(id, user);
    if (nextQuestion(row.answers)) throw errorCodes.error('PLINTH_ERR_INTERVIEW_STATE', `interview ${id} still has questions; answer them first`);
    if (row.state === 'applied') throw errorCodes.error('PLINTH_ERR_INTERVIEW_STATE', `interview ${id} was applied already`);
    const proposal = await this.propose(row.answers, admin);
    const shown = { requests: proposal.requests.map(r => ({ ...r, body: maskSecrets(r.body, row.answers) })), changes: proposal.changes };
    if (!confirm) {
      row.state = 'proposed';
      await this.save(row);
      return { id, state: row.state, applied: false, ...shown };
    }
    const results: Array<{ method: string; path: string; status: number; error?: unknown }> = [];
    for (const r of proposal.requests) {
      const res = await admin(r);
      results.push({ method: r.method, path: r.path, status: res.status, ...(res.status >= 300 ? { error: res.body?.error ?? res.body } : {}) });
      if (res.status >= 300 || (r.path === '/api/config' && res.body?.failed?.length)) {
        row.state = 'failed';
        row.result = { results, failed: res.body?.failed ?? null };
        await this.save(row);
        throw errorCodes.error('PLINTH_ERR_INTERVIEW_APPLY', `${r.method} ${r.path} failed (${res.status}); the requests before it were applied`, { details: { results, failed: res.body?.failed ?? null } });
      }
    }
    row.state = 'applied';
    row.result = { results };
    await this.save(row);
    return { id, state: row.state, applied: true, results, ...shown };
  }

  private async propose(a: Answers, admin: AdminClient): Promise<{ requests: AdminCall[]; changes: ConfigChange[] }> {
    const requests: AdminCall[] = [];
    const changes: ConfigChange[] = [];
    if (a.provider !== 'builtin') {
      requests.push({ method: 'PUT', path: `/api/providers/${a.provider}/key`, body: { apiKey: a.apiKey } });
      changes.push({ path: `providers.${a.provider}.key`, before: null, after: MASK });
    }
    const agent = { name: a.agentName, model: PROVIDER_MODELS[a.provider], instructions: a.instructions };
    requests.push({ method: 'POST', path: '/api/agents', body: agent });
    changes.push({ path: `agents.${a.agentName}`, before: null, after: agent });
    if (a.channels === 'telegram') {
      const current = (await admin({ method: 'GET', path: '/api/config' })).body?.plugins ?? {};
      const telegram = current.telegram?.config ?? {};
      const channels = current.channels?.config ?? {};
      const routed = { ...(channels.channels ?? {}), telegram: { ...(channels.channels?.telegram ?? {}), agent: a.agentName } };
      requests.push({ method: 'PUT', path: '/api/config', body: { plugins: { telegram: { ...telegram, botToken: a.telegramToken }, channels: { ...channels, channels: routed } } } });
      changes.push({ path: 'plugins.telegram.config.botToken', before: telegram.botToken ? MASK : null, after: MASK });
      changes.push({ path: 'plugins.channels.config.channels.telegram.agent', before: channels.channels?.telegram?.agent ?? null, after: a.agentName });
    }
    return { requests, changes };
  }
}

/** The proposal as shown: every secret answer replaced wherever it appears. */
function maskSecrets(body: unknown, a: Answers): unknown {
  const secrets = SCRIPT.filter(q => q.secret && a[q.key]).map(q => a[q.key]);
  return JSON.parse(JSON.stringify(body ?? null, (_k, v) => (typeof v === 'string' && secrets.includes(v) ? MASK : v)));
}
