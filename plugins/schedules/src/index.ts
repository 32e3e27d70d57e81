import { definePlugin } from 'plinth/sdk';
import { jobsRef } from 'plinth/contracts/jobs';
import { ScheduleStore } from './schedule-store';
import { migrations } from './migrations';
import { Scheduler, type SchedulerOptions } from './scheduler';
import { ScheduleService } from './schedule-service';
import { registerRoutes } from './routes';
import { recurringJob } from './schedule-service';
import { registerTools } from './tools';

const deps = { jobs: jobsRef };

export default definePlugin<typeof deps, SchedulerOptions>({
  deps,
  async setup({ http, tools, storage, clock, timers, log, config, jobs, onDispose }) {
    const store = new ScheduleStore(await storage.open({ migrations }));
    const scheduler = new Scheduler(store, jobs, clock, timers, log, config);
    const service = new ScheduleService(store, scheduler, jobs, clock);
    scheduler.start();
    onDispose(() => scheduler.stop());
    const offRecurring = jobs.registerRecurring?.(async (owner, limit) => (await store.recurring(owner, limit)).map(recurringJob));
    if (offRecurring) onDispose(offRecurring);

    registerRoutes(http, { store, scheduler, service });
    registerTools(tools, { store, scheduler, service });
  },
});
