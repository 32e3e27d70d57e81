import type { Disposer } from 'plinth/sdk';
import type { RecurringJob, RecurringSource } from './contract';

/**
 * The recurring jobs other plugins keep (the schedules plugin's cron schedules): the peer
 * daemon's job list carries them beside the jobs. Without a source the list is empty.
 */
export class RecurringJobs {
  private readonly sources = new Set<RecurringSource>();

  register(source: RecurringSource): Disposer {
    // A wrapper of its own, so a reloaded plugin's old generation removes only its own entry.
    const entry: RecurringSource = (owner, limit) => source(owner, limit);
    this.sources.add(entry);
    return () => { this.sources.delete(entry); };
  }

  async list(owner: string | undefined, limit: number): Promise<RecurringJob[]> {
    const all = (await Promise.all([...this.sources].map(s => s(owner, limit)))).flat();
    return all.slice(0, limit);
  }
}
