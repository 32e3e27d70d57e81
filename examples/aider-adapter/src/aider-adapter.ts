import { errors } from 'plinth/sdk';
import type { CliAdapter } from 'plinth/contracts/runs';

/**
 * Drives aider (https://aider.chat) non-interactively: `--message` runs one instruction and exits,
 * `--yes-always` answers its confirmations, and `--no-auto-commits` leaves the changes uncommitted
 * so the runs plugin shows them as the run's diff and commits them on the person's say-so.
 */
export function aiderAdapter(defaults: { binary: string }): CliAdapter {
  return {
    name: 'aider',
    command({ task, message, config }) {
      const binary = config.binary ?? defaults.binary;
      if (typeof binary !== 'string' || !binary) throw errors.badRequest('provider_config.binary must be a non-empty string');
      const model = config.model;
      if (model !== undefined && typeof model !== 'string') throw errors.badRequest('provider_config.model must be a string');
      // A follow-up message (continue, notify) replaces the task: aider keeps its own chat history in the worktree.
      const args = ['--yes-always', '--no-auto-commits', '--no-pretty', '--message', message ?? task];
      if (model) args.unshift('--model', model);
      return { file: binary, args, env: { AIDER_CHECK_UPDATE: 'false', AIDER_ANALYTICS: 'false' } };
    },
    parseResult: parseAiderOutput,
  };
}

const k = (n: string, suffix: string) => Math.round(Number(n) * (suffix.toLowerCase() === 'k' ? 1000 : 1));

/** aider prints `Tokens: 2.1k sent, 312 received. Cost: $0.0042 message, $0.01 session.` after each exchange; the last one holds the totals. */
export function parseAiderOutput(output: string): { inputTokens: number; outputTokens: number; costUsd?: number } | undefined {
  const lines = [...output.matchAll(/Tokens: ([\d.]+)(k?) sent, ([\d.]+)(k?) received\.(?: Cost: \$([\d.]+) message, \$([\d.]+) session\.)?/gi)];
  if (!lines.length) return undefined;
  let inputTokens = 0;
  let outputTokens = 0;
  for (const m of lines) { inputTokens += k(m[1], m[2]); outputTokens += k(m[3], m[4]); }
  const session = lines.at(-1)![6];
  return { inputTokens, outputTokens, ...(session ? { costUsd: Number(session) } : {}) };
}
