import { errors, isPlinthError, newId, type Disposer, type EventBus, type Logger, type Timers, type User } from 'plinth/sdk';
import type { AgentInstances, AgentProfile, InstanceState } from './contract';
import type { AgentLoop } from './agent-loop';
import type { AgentStore } from './agent-store';
import type { InstanceRow, InstanceStore, QueueItem } from './instance-store';
import type { SessionStore } from './session-store';

export interface InstanceOptions { pollMs: number; leaseMs: number }

interface Worker { busy: boolean; stopping: boolean }

/**
 * Agent instances: a profile running as a long-lived worker in this kernel. It keeps one session
 * (its conversation and working memory across messages), takes its messages one at a time from the
 * durable queue (claimed with a lease, renewed while the turn runs; an item is done only once its
 * turn is stored), and reports each state change as the bus event `agent.instance.state` (seen on
 * /ws). Stopping lets the turn in flight finish; queued items wait for the next start. Instances
 * wanted running are started again when the kernel starts.
 */
export class Instances implements AgentInstances {
  private readonly workers = new Map<string, Worker>();
  private readonly me = newId('wrk');
  private stopTimer?: Disposer;

  constructor(
    private readonly store: InstanceStore,
    private readonly agents: AgentStore,
    private readonly sessions: SessionStore,
    private readonly runtime: AgentLoop,
    private readonly events: EventBus,
    private readonly timers: Timers,
    private readonly log: Logger,
    private readonly options: InstanceOptions,
  ) {}

  /** At setup: frees what a dead kernel held (SQLite) and starts the instances wanted running. */
  async restore(single: boolean): Promise<void> {
    if (single) {
      const released = await this.store.releaseAll();
      if (released) this.log.warn('instance queue items left running by a previous run are ready again', { count: released });
    }
    for (const row of await this.store.all()) {
      if (row.desired === 'running') await this.launch(row);
      else if (row.state !== 'stopped' && row.state !== 'failed') await this.setState(row, 'stopped');
    }
    this.stopTimer = this.timers.setInterval(() => void this.poll(), this.options.pollMs);
  }

  dispose(): void {
    this.stopTimer?.();
    this.workers.clear();
  }

  async start(agent: AgentProfile, user: User): Promise<InstanceRow> {
    if (agent.kind !== 'llm') throw errors.unprocessable(`agent "${agent.name}" is a ${agent.kind} agent; only llm agents run as instances`);
    const row = await this.store.want(agent, user);
    const worker = this.workers.get(agent.id);
    if (worker) worker.stopping = false;
    else await this.launch(row);
    return (await this.store.get(agent.id))!;
  }

  async stop(agent: AgentProfile): Promise<InstanceRow> {
    const row = await this.store.assertExists(agent.id, agent.name);
    await this.store.setDesired(agent.id, 'stopped');
    const worker = this.workers.get(agent.id);
    if (worker?.busy) {
      worker.stopping = true;
      await this.setState(row, 'stopping');
    } else {
      this.workers.delete(agent.id);
      if (row.state !== 'stopped') await this.setState(row, 'stopped');
    }
    return (await this.store.get(agent.id))!;
  }

  /** The agent, if `user` may start, stop and feed its instance (it acts as the user who started it): admins and the agent's owner. */
  async controlled(nameOrId: string, user: User): Promise<AgentProfile> {
    const agent = await this.agents.getVisible(nameOrId, user);
    if (user.role !== 'admin' && agent.owner !== user.id) throw errors.forbidden(`agent "${agent.name}" is shared; only admins run it as an instance`);
    return agent;
  }

  async enqueueForInstance(agentName: string, input: { message: string; source?: string; key?: string }, user: User): Promise<QueueItem> {
    const agent = await this.controlled(agentName, user);
    const item = await this.store.enqueue(agent.id, input.message, input.source ?? 'api', input.key);
    setImmediate(() => void this.poll());
    return item;
  }

  async awaitInstanceItem(id: string, signal?: AbortSignal): Promise<QueueItem> {
    for (;;) {
      const item = await this.store.item(id);
      if (!item) throw errors.notFound(`instance queue item ${id}`);
      if (item.state === 'done' || item.state === 'failed') return item;
      if (signal?.aborted) throw new Error(`gave up waiting for instance queue item ${id}`);
      await new Promise<void>(resolve => { const off = this.timers.setTimeout(resolve, this.options.pollMs); signal?.addEventListener('abort', () => { off(); resolve(); }, { once: true }); });
    }
  }

  async view(agents: AgentProfile[]) {
    const rows = new Map((await this.store.all()).map(r => [r.agent_id, r]));
    const queued = await this.store.counts();
    return agents.map(a => {
      const r = rows.get(a.id);
      return { ...a, instance: r ? { state: r.state, reason: r.reason, desired: r.desired, session_id: r.session_id, owner: r.owner, queued: queued.get(a.id) ?? 0, updated_at: r.updated_at } : null };
    });
  }

  private async launch(row: InstanceRow): Promise<void> {
    this.workers.set(row.agent_id, { busy: false, stopping: false });
    await this.setState(row, 'starting');
    try {
      const agent = await this.agents.find(row.agent_id);
      if (!agent) throw new Error('its agent profile was deleted');
      if (!row.session_id || !(await this.sessions.get(row.session_id))) {
        const session = await this.runtime.createSession(this.userOf(row), { agent: agent.id, name: `instance of ${agent.name}`, via: 'instance' });
        await this.store.setSession(row.agent_id, session.id);
      }
      await this.setState(row, 'idle');
    } catch (err) {
      this.workers.delete(row.agent_id);
      await this.setState(row, 'failed', (err as Error)?.message ?? String(err));
    }
  }

  private async poll(): Promise<void> {
    for (const [agentId, worker] of this.workers) {
      if (worker.busy || worker.stopping) continue;
      worker.busy = true;
      void this.work(agentId, worker).catch(err => this.log.error('instance worker failed', { agentId, error: String(err) })).finally(() => { worker.busy = false; });
    }
  }

  /** Runs queued items one after another until the queue is empty or the instance is stopping. */
  private async work(agentId: string, worker: Worker): Promise<void> {
    for (;;) {
      const row = await this.store.get(agentId);
      if (!row || worker.stopping || this.workers.get(agentId) !== worker) return;
      const next = await this.store.claim(agentId, this.me, this.options.leaseMs);
      if (!next) return;
      await this.setState(row, 'running');
      const renew = this.timers.setInterval(() => void this.store.renew(next.id, this.me, this.options.leaseMs).catch(() => undefined), Math.max(50, this.options.leaseMs / 3));
      try {
        const session = row.session_id ? await this.sessions.get(row.session_id) : undefined;
        if (!session) throw new Error('the instance session is gone');
        const result = await this.runtime.runSessionTurn({ session, user: this.userOf(row), message: next.message, via: `instance:${next.source}` });
        await this.store.finish(next.id, this.me, { state: result.error ? 'failed' : 'done', turn_id: result.turnId, result: result.text, error: result.error?.message ?? null });
      } catch (err) {
        // The instance's session is answering on another kernel (whose worker took the item before):
        // this item waits its turn in the queue, and the instance is fine.
        if (isPlinthError(err) && err.status === 409) { await this.store.release(next.id, this.me); return; }
        // The item is not lost: it goes back to the queue when its lease runs out; the instance reports why it failed.
        this.workers.delete(agentId);
        await this.store.setDesired(agentId, 'stopped');
        await this.setState(row, 'failed', (err as Error)?.message ?? String(err));
        return;
      } finally {
        renew();
      }
      if (worker.stopping) {
        this.workers.delete(agentId);
        await this.setState(row, 'stopped');
        return;
      }
      await this.setState(row, 'idle');
    }
  }

  private userOf(row: InstanceRow): User {
    return { id: row.owner, email: row.owner_email, role: row.owner_role as User['role'] };
  }

  private async setState(row: InstanceRow, state: InstanceState, reason: string | null = null): Promise<void> {
    await this.store.setState(row.agent_id, state, reason);
    void this.events.publish('agent.instance.state', { agentId: row.agent_id, agent: row.agent_name, state, reason, at: new Date().toISOString() }, { owner: row.owner, audience: 'owner' })
      .catch(err => this.log.warn('event not published', { topic: 'agent.instance.state', error: String(err) }));
  }
}
