import type { TestKernel } from 'plinth/testing';

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export async function until<T>(fn: () => Promise<T | undefined | null | false>, ms = 8000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`${what} not met in ${ms} ms`);
    await sleep(25);
  }
}

/** Waits until a job reaches one of `states` and answers its detail. */
export async function waitForJob(k: TestKernel, id: string, states: string[], token?: string, ms = 8000): Promise<any> {
  return until(async () => {
    const r = await k.request('GET', `/api/jobs/${id}`, { token });
    return states.includes(r.body?.job?.state) ? r.body : undefined;
  }, ms, `job ${id} in ${states.join('/')}`);
}

export async function logOf(k: TestKernel, id: string): Promise<string[]> {
  const res = await fetch(`${k.baseUrl}/api/jobs/${id}/stream`, { headers: { authorization: `Bearer ${k.adminToken}` } });
  const text = await res.text();
  return text.split('\n\n').filter(f => f.includes('event: log')).map(f => JSON.parse(/data: (.*)/.exec(f)![1]).line);
}
