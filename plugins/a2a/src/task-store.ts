import type { PluginDatabase } from 'plinth/sdk';
import type { Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';

type Sdk = typeof import('@a2a-js/sdk/server');

// A2A task states (a2a.proto) that mean the task is still going.
const UNFINISHED = [1, 2]; // SUBMITTED, WORKING
const FAILED = 4;

/**
 * The SDK's in-memory store, written through to the database: a task acknowledged to a client
 * survives a restart. Reads come from memory; an owner's stored tasks are brought in on first use.
 */
export class PersistentTaskStore implements TaskStore {
  private readonly memory: TaskStore;
  private readonly loadedOwners = new Set<string>();

  constructor(private readonly db: PluginDatabase, private readonly sdk: Sdk, private readonly now: () => number) {
    this.memory = new sdk.InMemoryTaskStore();
  }

  /** Tasks a previous process left running can never finish: mark them failed, with why. */
  async failInterrupted(): Promise<number> {
    const t = this.db.table('tasks');
    const rows = await this.db.query<{ id: string; task: string }>(`SELECT id, task FROM ${t} WHERE state IN (${UNFINISHED.join(', ')})`);
    for (const row of rows) {
      const task = JSON.parse(row.task) as Task;
      task.status = { state: FAILED as any, timestamp: new Date(this.now()).toISOString(), message: {
        messageId: `interrupted-${row.id}`, role: 2 as any, taskId: row.id, contextId: task.contextId,
        parts: [{ content: { $case: 'text', value: 'The server restarted while this task was running.' } } as any], metadata: undefined, extensions: [], referenceTaskIds: [],
      } as any };
      await this.db.query(`UPDATE ${t} SET state = ?, task = ?, updated_at = ? WHERE id = ?`, [FAILED, JSON.stringify(task), new Date(this.now()).toISOString(), row.id]);
    }
    return rows.length;
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const owner = this.sdk.resolveUserScope(context);
    const t = this.db.table('tasks');
    const values = [owner, task.contextId ?? null, Number(task.status?.state ?? 0), JSON.stringify(task), new Date(this.now()).toISOString(), task.id];
    const updated = await this.db.query(`UPDATE ${t} SET owner = ?, context_id = ?, state = ?, task = ?, updated_at = ? WHERE id = ? RETURNING id`, values);
    if (!updated.length) {
      await this.db.query(`INSERT INTO ${t} (owner, context_id, state, task, updated_at, id) VALUES (?, ?, ?, ?, ?, ?)`, values);
    }
    await this.memory.save(task, context);
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    await this.bringIn(context);
    return this.memory.load(taskId, context);
  }

  async list(params: Parameters<TaskStore['list']>[0], context: ServerCallContext): ReturnType<TaskStore['list']> {
    await this.bringIn(context);
    return this.memory.list(params, context);
  }

  private async bringIn(context: ServerCallContext): Promise<void> {
    const owner = this.sdk.resolveUserScope(context);
    if (this.loadedOwners.has(owner)) return;
    this.loadedOwners.add(owner);
    const rows = await this.db.query<{ task: string }>(`SELECT task FROM ${this.db.table('tasks')} WHERE owner = ? ORDER BY updated_at`, [owner]);
    for (const row of rows) await this.memory.save(JSON.parse(row.task), context);
  }
}
