import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { NGINX, startKernelCluster, until, type KernelCluster } from '../helpers/cluster';

const ROOT = join(__dirname, '..', '..');
const PG = process.env.PLINTH_TEST_POSTGRES_URL;
const skip = !PG ? 'PLINTH_TEST_POSTGRES_URL not set' : !NGINX ? 'nginx is not installed (.ci/run installs it)' : false;

/**
 * Two kernels on one PostgreSQL, each sending messages to the same session at the same time:
 * the database numbers the messages and lets one turn run at a time, so the session reads the
 * same as if one kernel had answered every message in turn.
 */
describe('one session written by two kernels at once', { skip }, () => {
  let cluster: KernelCluster;
  const call = async (base: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json().catch(() => undefined) as any };
  };

  before(async () => {
    cluster = await startKernelCluster({ postgresUrl: PG!, size: 2, plugins: () => [{ id: 'agents', path: join(ROOT, 'plugins', 'agents') }] });
  });
  after(() => cluster?.stop());

  test('messages are numbered 1…n with no number twice, and each turn\'s messages and frames stay together', async () => {
    const session = await call(cluster.kernels[0].baseUrl, 'POST', '/api/sessions', { agent: 'assistant' });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    const id = session.body.id;
    const PER_KERNEL = 8;
    const statuses: number[] = [];
    const writer = async (k: number) => {
      for (let i = 0; i < PER_KERNEL; i++) {
        const text = `kernel-${k} message-${i}`;
        // A turn holds the session: the other kernel's message is refused with 409 meanwhile, and sent again.
        await until(async () => {
          const r = await call(cluster.kernels[k].baseUrl, 'POST', `/api/sessions/${id}/messages`, { message: text });
          statuses.push(r.status);
          if (r.status !== 200 && r.status !== 409) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
          return r.status === 200 && r.body.text === text;
        }, 60_000, `${text} answered`);
      }
    };
    await Promise.all([writer(0), writer(1)]);
    assert.ok(statuses.every(s => s === 200 || s === 409), JSON.stringify(statuses));
    assert.equal(statuses.filter(s => s === 200).length, 2 * PER_KERNEL);

    const messages = (await call(cluster.kernels[1].baseUrl, 'GET', `/api/sessions/${id}/messages?limit=100`)).body.items;
    assert.deepEqual(messages.map((m: any) => m.seq), messages.map((_: unknown, i: number) => i + 1));
    assert.equal(messages.length, 4 * PER_KERNEL, 'a user message and an answer per turn');
    for (let i = 0; i < messages.length; i += 2) {
      const [user, answer] = [messages[i], messages[i + 1]];
      assert.equal(user.role, 'user');
      assert.equal(answer.role, 'assistant');
      assert.equal(answer.turn_id, user.turn_id, `seq ${user.seq}: a turn's messages are adjacent`);
      assert.equal(answer.content, user.content);
    }
    assert.equal(new Set(messages.filter((m: any) => m.role === 'user').map((m: any) => m.content)).size, 2 * PER_KERNEL);

    // The stored frames: numbered 1…n, and no turn's frames interleaved with another's.
    const res = await fetch(`${cluster.kernels[0].baseUrl}/api/sessions/${id}/stream?last_event_id=0`, { headers: { authorization: `Bearer ${cluster.adminToken}` } });
    const frames = [...(await res.text()).matchAll(/^id: (\d+)\nevent: (\w+)\ndata: (.*)$/gm)].map(m => ({ id: Number(m[1]), event: m[2], data: JSON.parse(m[3]) }));
    assert.deepEqual(frames.map(f => f.id), frames.map((_, i) => i + 1));
    const turnOrder = frames.map(f => f.data.turnId).filter((t, i, all) => t && t !== all[i - 1]);
    assert.equal(new Set(turnOrder).size, turnOrder.length, 'each turn\'s frames form one run');
    assert.equal(turnOrder.length, 2 * PER_KERNEL);
  });
});
