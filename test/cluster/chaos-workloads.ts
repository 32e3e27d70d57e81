/**
 * The chaos run's workloads besides notes and jobs (issue 15): each one drives the cluster through
 * the balancer while `ctx.running()`, remembers what the cluster acknowledged, and afterwards
 * checks it against the database (`ctx.sql`) and the fake Bot API.
 */
import { sseFrames, sleep, type FakeApi } from 'plinth/testing';

export interface ChaosContext {
  running(): boolean;
  /** A request through the balancer, counted in the request figures; undefined on a network error. */
  request(path: string, init?: { method?: string; body?: unknown; accept?: string; headers?: Record<string, string>; timeoutMs?: number }): Promise<Response | undefined>;
  /** A query on the cluster's database. */
  sql(text: string, params?: unknown[]): Promise<any[]>;
  /** When each SIGKILL happened. */
  killTimes: number[];
}

const loop = async (ctx: ChaosContext, pauseMs: number, fn: () => Promise<void>) => {
  while (ctx.running()) { await fn(); await sleep(pauseMs); }
};
const json = async (r: Response | undefined, status: number) => {
  if (r?.status === status) return r.json() as Promise<any>;
  await r?.body?.cancel().catch(() => undefined);
  return undefined;
};

/**
 * Session messages streamed over SSE by `clients` clients, one session each (a new one when a
 * session's POST failed). A message counts as acknowledged once its `message` frame (the stored
 * user message, sent once its turn is recorded) arrived. Check: every acknowledged message stored;
 * its turn answered (status ok and a final answer row), or marked: the turn partial / error /
 * interrupted, or its answer row still `partial` (the kernel died while it streamed), or the turn
 * still `running` (killed after the ack; marked at a later start). Any other (no turn recorded,
 * or a turn ok without its answer) is a lost answer.
 */
export function sessionMessages(ctx: ChaosContext, clients = 3) {
  const acked: Array<{ sessionId: string; messageId: string; turnId: string; done?: string }> = [];
  let cut = 0;
  const client = async (i: number) => {
    let sessionId: string | undefined;
    let n = 0;
    await loop(ctx, 100, async () => {
      sessionId ??= (await json(await ctx.request('/api/sessions', { method: 'POST', body: { agent: 'assistant' } }), 201))?.id;
      if (!sessionId) return;
      const text = `client ${i} message ${++n}: ` + 'streamed word '.repeat(30);
      const r = await ctx.request(`/api/sessions/${sessionId}/messages`, { method: 'POST', body: { message: text }, accept: 'text/event-stream' });
      if (r?.status !== 200) { await r?.body?.cancel().catch(() => undefined); return; }
      let ack: (typeof acked)[number] | undefined;
      try {
        for await (const f of sseFrames(r.body!)) {
          if (f.event === 'message') acked.push(ack = { sessionId, messageId: f.data.message.id, turnId: f.data.turnId });
          if (f.event === 'done' && ack) ack.done = f.data.message?.content;
        }
      } catch { /* the stream was cut by a kill */ }
      if (ack && ack.done === undefined) cut++;
    });
  };
  const run = Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  return {
    run,
    async check() {
      const ids = acked.map(a => a.messageId);
      const turnIds = acked.map(a => a.turnId);
      const stored = new Set((await ctx.sql('SELECT id FROM agents_messages WHERE id = ANY($1)', [ids])).map(r => r.id));
      const turns = new Map((await ctx.sql('SELECT id, status FROM agents_turns WHERE id = ANY($1)', [turnIds])).map(r => [r.id, r.status]));
      const answers = new Map<string, { content: string; partial: boolean }>();
      for (const r of await ctx.sql(`SELECT turn_id, content, partial FROM agents_messages WHERE role = 'assistant' AND turn_id = ANY($1) ORDER BY seq`, [turnIds])) {
        answers.set(r.turn_id, { content: r.content, partial: !!Number(r.partial) });
      }
      let answered = 0, marked = 0, interrupted = 0, leftRunning = 0, unmarked = 0, doneNotStored = 0;
      const unmarkedTurns: string[] = [];
      for (const a of acked) {
        const status = turns.get(a.turnId);
        const answer = answers.get(a.turnId);
        if (status === 'interrupted') interrupted++;
        // Killed after the ack, its turn stays `running` until a kernel starts once it is
        // 2 × requestTimeoutMs old and marks it interrupted (agents README): counted, and the
        // message is answered if the final answer was stored before the kill, else marked.
        if (status === 'running') leftRunning++;
        if (answer && !answer.partial && (status === 'ok' || status === 'running')) answered++;
        else if (['partial', 'error', 'interrupted', 'running'].includes(status) || answer?.partial) marked++;
        else {
          unmarked++;
          // What is there of it, to see where the kill cut it (no turn row: cut before the turn was recorded).
          if (unmarkedTurns.length < 3) unmarkedTurns.push(`${a.turnId}: turn ${status ?? 'not recorded'}, answer ${answer ? 'stored' : 'none'}`);
        }
        // What a client saw in its done frame is what is stored.
        if (a.done !== undefined && answer?.content !== a.done) doneNotStored++;
      }
      return { acked: acked.length, stored: stored.size, lost: ids.length - stored.size, answered, marked, interrupted, leftRunning, unmarked, unmarkedTurns, streamsCut: cut, doneNotStored };
    },
  };
}

/**
 * `count` schedules firing every second (6-field cron), each fire a command job. Check, from the
 * fires table and the jobs table: every due second from a schedule's first due time until the end
 * of the workload (some kernel was up all along: one is killed at a time) has exactly one fire and at most one job (a double fire would show as two jobs for
 * one due time or a job without its fire).
 */
export function everySecondSchedules(ctx: ChaosContext, count = 2) {
  const schedules: Array<{ id: string; firstDueMs: number }> = [];
  let stoppedMs = 0;
  const run = (async () => {
    for (let i = 0; i < count; i++) {
      const s = await json(await ctx.request('/api/schedules', { method: 'POST', body: { name: `every second ${i}`, cron: '* * * * * *', job: { kind: 'command', request: { command: 'true' } } } }), 201);
      if (!s) throw new Error('a schedule was not created');
      schedules.push({ id: s.id, firstDueMs: Date.parse(s.nextRunAt) });
    }
    while (ctx.running()) await sleep(100);
    stoppedMs = Date.now();
    // A schedule behind after a kill catches up one due time after another: let it reach the end
    // of the workload (bounded), then end its timetable.
    const caughtUp = async () => {
      const [row] = await ctx.sql('SELECT MIN(last) AS m FROM (SELECT MAX(due_ms) AS last FROM schedules_fires WHERE schedule_id = ANY($1) GROUP BY schedule_id) f', [schedules.map(s => s.id)]);
      return Number(row?.m ?? 0) >= stoppedMs;
    };
    for (const end = Date.now() + 30_000; Date.now() < end && !(await caughtUp());) await sleep(250);
    for (const s of schedules) {
      // Disabling goes on until one kernel answers: the end of the timetable must be known.
      for (let tries = 0; tries < 20 && (await json(await ctx.request(`/api/schedules/${s.id}/disable`, { method: 'POST', body: {} }), 200)) === undefined; tries++) await sleep(250);
    }
  })();
  return {
    run,
    async check() {
      let expected = 0, fired = 0, missing = 0, doubleJobs = 0, jobsWithoutFire = 0, maxLateMs = 0;
      const firstMissing: number[] = [];
      for (const s of schedules) {
        const fires = await ctx.sql('SELECT due_ms, fired_ms, status FROM schedules_fires WHERE schedule_id = $1', [s.id]);
        const dues = new Set(fires.map(f => Number(f.due_ms)));
        fired += fires.length;
        for (const f of fires) maxLateMs = Math.max(maxLateMs, Number(f.fired_ms) - Number(f.due_ms));
        for (let due = s.firstDueMs; due <= stoppedMs; due += 1000) {
          expected++;
          if (!dues.has(due)) { missing++; if (firstMissing.length < 5) firstMissing.push(due); }
        }
        const jobs = await ctx.sql('SELECT idempotency_key, COUNT(*) AS n FROM jobs_jobs WHERE source = $1 GROUP BY idempotency_key', [`schedule:${s.id}`]);
        for (const j of jobs) {
          if (Number(j.n) > 1) doubleJobs++;
          if (!dues.has(Number(String(j.idempotency_key).split(':').pop()))) jobsWithoutFire++;
        }
      }
      return { schedules: schedules.length, expectedFires: expected, fires: fired, missing, doubleJobs, jobsWithoutFire, maxLateMs, firstMissing };
    },
  };
}

/**
 * Telegram updates POSTed by the fake Bot API's side (a webhook each `everyMs`, 20 chats), each
 * answered by the builtin echo model through the channels pipeline. An update is acknowledged by
 * its 200. The rule: every acknowledged update is answered at least once, and exactly once unless
 * a send was cut by a kill — the Bot API accepted the message but the kernel died before it
 * stored the delivery as sent, so another kernel sends it again after the lease (10 s here). Such a repeat
 * counts as `repeatedAfterKill` when the first copy reached the fake at most `cutWindowMs` before
 * a SIGKILL; any other repeat is a failure (`duplicates`).
 */
export function telegramWebhooks(ctx: ChaosContext, api: FakeApi, o: { secret: string; everyMs?: number; cutWindowMs?: number }) {
  const acked: string[] = [];
  let n = 0;
  const post = async () => {
    const id = ++n;
    const chat = 7000 + (id % 20);
    const update = { update_id: id, message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: chat, type: 'private' }, from: { id: chat, first_name: 'Chaos' }, text: `tg${id}` } };
    const r = await ctx.request('/api/webhooks/telegram', { method: 'POST', body: update, headers: { 'x-telegram-bot-api-secret-token': o.secret } });
    if (r?.status === 200) acked.push(`tg${id}`);
    await r?.body?.cancel().catch(() => undefined);
  };
  const run = loop(ctx, o.everyMs ?? 150, post);
  const sends = () => api.delivered.filter(d => d.method === 'sendMessage');
  return {
    run,
    /** Every acknowledged update answered (bounded wait), then a little longer for a late repeat. */
    settle: async (timeoutMs: number) => {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const seen = new Set(sends().map(d => d.params.text));
        if (acked.every(t => seen.has(t))) break;
        await sleep(250);
      }
      await sleep(1000);
    },
    check() {
      const byText = new Map<string, number[]>();
      for (const d of sends()) byText.set(d.params.text, [...(byText.get(d.params.text) ?? []), d.at]);
      const cutWindow = o.cutWindowMs ?? 3000;
      let answeredOnce = 0, repeatedAfterKill = 0, duplicates = 0, unanswered = 0;
      const unexplained: string[] = [];
      for (const t of acked) {
        const at = byText.get(t) ?? [];
        if (!at.length) unanswered++;
        else if (at.length === 1) answeredOnce++;
        else if (ctx.killTimes.some(k => at[0] <= k && at[0] >= k - cutWindow)) repeatedAfterKill++;
        else {
          duplicates++;
          // When each copy went out, relative to the nearest kill, to see why.
          const nearest = (t: number) => Math.min(...ctx.killTimes.map(k => t - k).filter(x => x <= 0).map(Math.abs), Infinity);
          if (unexplained.length < 3) unexplained.push(`${t}: ${at.map(x => `${nearest(x)} ms before a kill`).join(', ')}`);
        }
      }
      return { acked: acked.length, posted: n, answeredOnce, repeatedAfterKill, duplicates, unanswered, unexplained };
    },
  };
}

/**
 * Blocking questions asked through the approvals plugin (half of them tool permissions, decided
 * by approve/deny; the others answered), decided by a second client that polls the pending ones
 * and leaves one in five undecided so that it expires. Check: every request in the database is
 * decided or expired once its deadline passed; every acknowledged decision is the stored one;
 * every answered ask-blocking saw the stored state.
 */
export function approvalsAskedAndDecided(ctx: ChaosContext, o: { waitMs: number }) {
  const asked = new Map<string, string>(); // id → state the asker was answered with
  const decided = new Map<string, string>(); // id → state the decider's 200 said
  let n = 0;
  const ask = () => loop(ctx, 100, async () => {
    const toolPermission = ++n % 2 === 0;
    const r = await json(await ctx.request('/api/questions/ask-blocking', { method: 'POST', body: { question: `may I ${n}?`, type: 'boolean', tool_permission: toolPermission, wait_ms: o.waitMs }, timeoutMs: o.waitMs + 10_000 }), 200);
    if (r) asked.set(r.id, r.state);
  });
  const decide = loop(ctx, 200, async () => {
    const page = await json(await ctx.request('/api/approvals?state=pending&kind=question&limit=50'), 200);
    for (const a of page?.items ?? []) {
      if (decided.has(a.id) || Math.random() < 0.2) continue;
      const toolPermission = !!a.question?.toolPermission;
      const r = toolPermission
        ? await ctx.request(`/api/approvals/${a.id}/${Math.random() < 0.5 ? 'approve' : 'deny'}`, { method: 'POST', body: {} })
        : await ctx.request('/api/answer', { method: 'POST', body: { id: a.id, answer: true } });
      const body = await json(r, 200);
      if (body) decided.set(a.id, body.state);
    }
  });
  const run = Promise.all([ask(), ask(), decide]);
  return {
    run,
    /** Waits (bounded) until no request is pending: each is decided or passes its deadline and expires. */
    settle: async (timeoutMs: number) => {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const [row] = await ctx.sql(`SELECT COUNT(*) AS n FROM approvals_requests WHERE state = 'pending'`);
        if (Number(row.n) === 0) return;
        await sleep(250);
      }
    },
    async check() {
      const rows = await ctx.sql('SELECT id, state, decided_by FROM approvals_requests');
      const state = new Map(rows.map(r => [r.id, r.state]));
      const count = (s: string) => rows.filter(r => r.state === s).length;
      return {
        requests: rows.length, approved: count('approved'), denied: count('denied'), expired: count('expired'), pending: count('pending'),
        deniedByTimeout: rows.filter(r => r.decided_by === 'timeout' && r.state === 'denied').length,
        askAcked: asked.size, askMismatched: [...asked].filter(([id, s]) => state.get(id) !== s).length,
        decisionsAcked: decided.size, decisionsMismatched: [...decided].filter(([id, s]) => state.get(id) !== s).length,
      };
    },
  };
}
