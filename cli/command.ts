import { parseArgs, type ParseArgsConfig } from 'node:util';
import { settingsFromEnv, type KernelSettings } from '../core/process-settings';
import { Output, UsageError } from './output';
import { serverTarget, type ServerTarget } from './server-client';

/** Flags every command understands. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  url: { type: 'string' },
  token: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  out: Output;
  values: Record<string, any>;
  positionals: string[];
  settings(): KernelSettings;
  target(): ServerTarget;
}

export type Command = (ctx: CommandContext) => Promise<number>;

/** Parses a command's arguments strictly; an unknown flag or a missing value is a usage error (exit 2). */
export function commandContext(args: string[], options: NonNullable<ParseArgsConfig['options']>, usage: string): CommandContext {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err: any) {
    // Still answer in JSON when the caller asked for it.
    const out = new Output({ json: args.includes('--json') });
    throw Object.assign(new UsageError(err.message, usage), { out });
  }
  const { values, positionals } = parsed;
  const out = new Output({ json: !!values.json });
  let settings: KernelSettings | undefined;
  return {
    out,
    values,
    positionals,
    settings: () => (settings ??= settingsFromEnv()),
    target() { return serverTarget(this.settings(), { url: values.url as string | undefined, token: values.token as string | undefined }); },
  };
}
