import type { CronExpressionParser as CronParser } from 'cron-parser';
import { errors } from 'plinth/sdk';

/** cron-parser (and luxon under it) on the first cron schedule, not at every start (~40 ms). */
const cron = (): typeof CronParser => (require('cron-parser') as typeof import('cron-parser')).CronExpressionParser;

/** A 400 that names the field and what is wrong with it. */
function bad(field: string, message: string) {
  return errors.validation(`${field}: ${message}`, [{ field: `body/${field}`, message }]);
}

export function checkTimezone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw bad('timezone', `"${tz}" is not an IANA timezone (like Europe/Berlin or UTC)`);
  }
}

export function checkCron(expr: string, tz: string): void {
  const fields = expr.trim().split(/\s+/);
  if (!expr.startsWith('@') && (fields.length < 5 || fields.length > 6)) throw bad('cron', `"${expr}" has ${fields.length} fields; use 5 (minute hour day month weekday) or 6 (with seconds first)`);
  try {
    cron().parse(expr, { tz, strict: false }).next();
  } catch (err: any) {
    throw bad('cron', `"${expr}" is not a valid cron expression: ${err.message}`);
  }
}

export function parseAt(at: string, nowMs: number): number {
  const ms = Date.parse(at);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(ms)) throw bad('at', `"${at}" is not an ISO 8601 date-time (like 2030-01-31T09:00:00Z)`);
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(at)) throw bad('at', `"${at}" has no timezone offset; add Z or +hh:mm`);
  if (ms <= nowMs) throw bad('at', `${at} is in the past`);
  return ms;
}

/**
 * The first fire strictly after `afterMs`, in the schedule's timezone. cron-parser resolves DST:
 * a local time skipped by a spring-forward runs at the next valid time; a repeated one runs once.
 */
export function nextCronRun(expr: string, tz: string, afterMs: number): number {
  return cron().parse(expr, { tz, currentDate: new Date(afterMs) }).next().getTime();
}
