/**
 * A2A tasks are acknowledged to clients, so they outlive the process: a finished task is found
 * after a restart, and one a crash left running comes back failed, saying why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { TaskState } from '@a2a-js/sdk';
import { createTestKernel } from 'plinth/testing';
import { clientFor, message, taskOf } from './a2a-client';
import { plugin } from './helpers';

test('A2A tasks survive a restart; one left running is failed with the reason', async () => {
  const plugins = [plugin('agents', { defaultModel: 'builtin/echo' }), plugin('a2a')];
  const first = await createTestKernel({ plugins, keepData: true });
  const u = await first.createUser();
  const done = taskOf(await (await clientFor(first.baseUrl, u.token)).sendMessage(message('remember this task')));
  assert.equal(done.status.state, TaskState.TASK_STATE_COMPLETED);
  await first.stop();

  // What a kill -9 mid-task leaves behind: the same task, stored as still working.
  const sqlite3 = require('sqlite3');
  const db = new sqlite3.Database(join(first.dataDir, 'plinth.db'));
  const run = (sql: string, params: unknown[]) => new Promise<void>((resolve, reject) => db.run(sql, params, (err: Error | null) => (err ? reject(err) : resolve())));
  const row: any = await new Promise((resolve, reject) => db.get('SELECT * FROM a2a_tasks WHERE id = ?', [done.id], (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))));
  const stuck = { ...JSON.parse(row.task), id: 'stuck-' + randomUUID(), status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: new Date().toISOString() } };
  await run('INSERT INTO a2a_tasks (id, owner, context_id, state, task, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [stuck.id, row.owner, row.context_id, 2, JSON.stringify(stuck), new Date().toISOString()]);
  await new Promise(r => db.close(r));

  const second = await createTestKernel({ plugins, dataDir: first.dataDir });
  try {
    const client = await clientFor(second.baseUrl, u.token);
    const again = await client.getTask({ id: done.id } as any);
    assert.equal(again.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(again.artifacts, done.artifacts);
    const failed = await client.getTask({ id: stuck.id } as any);
    assert.equal(failed.status?.state, TaskState.TASK_STATE_FAILED);
    assert.match(JSON.stringify(failed.status?.message), /restarted while this task was running/);
    const other = await second.createUser();
    await assert.rejects((await clientFor(second.baseUrl, other.token)).getTask({ id: done.id } as any), /not found/i);
  } finally {
    await second.stop();
  }
});
