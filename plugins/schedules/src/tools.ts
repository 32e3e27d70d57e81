import type { ToolRegistry } from 'plinth/sdk';
import { listSchedules, ownedSchedule, removeSchedule, type ScheduleRouteDeps } from './routes';
import { CreateBody } from './schemas';

const id = { type: 'string', minLength: 1, maxLength: 80 } as const;
const obj = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required, properties });

/**
 * The schedule tools, as the peer daemon's MCP server offered them (schedule_create and
 * schedule_cron are one `schedules.create` with `at` or `cron`; schedule_list; schedule_delete).
 * A schedule here fires a job or a template's crew; a scheduled peer message is a job of the
 * mesh's `peer_message` kind. Creating and deleting are gated, as the daemon kept them from
 * anonymous callers: work that runs later, unattended, is a human's call unless policy lowers it.
 */
export function registerTools(tools: ToolRegistry, deps: ScheduleRouteDeps): void {
  const owned = ownedSchedule(deps.store);
  tools.register({
    name: 'create', risk: 'gated', inputSchema: CreateBody,
    description: 'Schedule a job (job: {kind, request}) or a template\'s crew once (at: ISO date-time) or on a cron expression (cron, timezone)',
    run: (input: any, ctx) => deps.service.create(ctx.user.id, input),
  });
  tools.register({
    name: 'list', risk: 'safe', description: 'The caller\'s schedules (admins: everyone\'s unless mine), newest first, with their next run',
    inputSchema: obj([], { mine: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 500 }, cursor: { type: 'string', maxLength: 200 } }),
    run: (input: any, ctx) => listSchedules(deps.store, ctx.user, input),
  });
  tools.register({
    name: 'delete', risk: 'gated', description: 'Delete a schedule; the jobs it already made are kept', inputSchema: obj(['schedule_id'], { schedule_id: id }),
    async run(input: { schedule_id: string }, ctx) {
      await removeSchedule(deps, await owned(input.schedule_id, ctx.user));
      return { id: input.schedule_id, deleted: true };
    },
  });
}
