import { isPlinthError, type User } from 'plinth/sdk';
import type { ModelRouter } from './contract';
import type { SessionStore } from './session-store';

const PROMPT = 'You name conversations. Answer with a short nickname for this conversation: 2 to 5 words, no quotes, nothing else.';
/** The first user messages are enough to name a conversation; a long one is cut so the call stays cheap. */
const FIRST_MESSAGES = 3;
const MAX_PROMPT_CHARS = 2000;
export const MAX_NICKNAME = 60;

/** What the model answered, as a nickname: its first line, without quotes or a trailing full stop, at most 60 characters. */
export function toNickname(answer: string): string {
  const line = answer.split('\n').map(l => l.trim()).find(Boolean) ?? '';
  return line.replace(/^["'`“”]+|["'`“”]+$/g, '').replace(/[.!]+$/, '').trim().slice(0, MAX_NICKNAME).trim();
}

/**
 * The agent runtime's session nicknames: a short name per session, asked of the model from the
 * session's first messages. The calls go through the recorded model router, so they appear in
 * the caller's stats and spend like any other call.
 */
export class SessionNicknames {
  constructor(private readonly sessions: SessionStore, private readonly models: ModelRouter, private readonly defaultModel: () => string) {}

  async backfill(user: User, options: { limit: number; force: boolean; model?: string }) {
    const model = options.model ?? this.defaultModel();
    const todo = await this.sessions.withoutNickname(user.id, options.limit, options.force);
    const updated: Array<{ id: string; nickname: string }> = [];
    const failed: Array<{ id: string; error: string }> = [];
    let skipped = 0;
    for (const session of todo) {
      const firsts = (await this.sessions.firstUserMessages(session.id, FIRST_MESSAGES)).join('\n\n').slice(0, MAX_PROMPT_CHARS);
      // A session nobody wrote in yet has nothing to be named after.
      if (!firsts) { skipped++; continue; }
      try {
        const answer = await this.models.chat(model, { messages: [{ role: 'system', content: PROMPT }, { role: 'user', content: firsts }], tools: [] }, undefined, { user, via: 'api:nickname' });
        const nickname = toNickname(answer.text);
        if (!nickname) { failed.push({ id: session.id, error: 'the model answered no nickname' }); continue; }
        await this.sessions.setNickname(session.id, nickname);
        updated.push({ id: session.id, nickname });
      } catch (err) {
        failed.push({ id: session.id, error: isPlinthError(err) ? err.message : String(err) });
        // An open breaker or an unknown model fails every session the same way: stop asking.
        if (isPlinthError(err) && (err.status === 404 || err.status === 503)) break;
      }
    }
    const remaining = (await this.sessions.withoutNickname(user.id, 1000, false)).length;
    return { model, updated, skipped, failed, remaining };
  }
}
