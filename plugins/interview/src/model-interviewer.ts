import type { User } from 'plinth/sdk';
import type { ChatMessage, ModelRouter, Usage } from 'plinth/contracts/agents';
import { SCRIPT, type Answers, type Question } from './script';

/** The tool through which the model hands over what an answer settled. */
export const RECORD_TOOL = 'record_answers';

/** What the model made of one free-form answer: proposed answers (still to be checked) and what it says. */
export interface Heard { proposed: Answers; said: string; usage: Usage }

/**
 * The interview led by a configured model (through the agents runtime's model router, so the
 * call is in the admin's stats): the admin answers in their own words, and the model settles as
 * many of the script's questions as the answer covers — drafting the agent's instructions from a
 * description — by calling `record_answers`. It proposes; the script's checks still decide.
 * Secret questions (API keys, bot tokens) never reach it: they are not in its tool, settled
 * values of theirs are shown to it as "(given)", and their answers are taken by the script.
 */
export class ModelInterviewer {
  private readonly questions = SCRIPT.filter(q => !q.secret);

  constructor(private readonly models: ModelRouter, readonly model: string) {}

  async hear(answer: string, answers: Answers, open: Question, user: User): Promise<Heard> {
    const settled = Object.entries(answers).map(([k, v]) => `- ${k}: ${SCRIPT.find(q => q.key === k)?.secret ? '(given)' : v}`);
    const system = [
      'You are the setup assistant of Plinth, an agent platform, interviewing its admin to configure it.',
      'The fields to settle, each with the question that asks for it:',
      ...this.questions.map(q => `- ${q.key}: ${q.text}`),
      settled.length ? `Settled so far:\n${settled.join('\n')}` : 'Nothing is settled yet.',
      `The open question: ${open.text}`,
      `When the admin's message settles one or more fields, call ${RECORD_TOOL} with them; for instructions, write what the agent should do `
        + 'in one to four sentences addressed to the agent. Never ask for API keys or bot tokens and never repeat one: they are asked for separately. '
        + 'Then say in one or two sentences what you understood and what comes next.',
    ].join('\n');
    const messages: ChatMessage[] = [{ role: 'system', content: system }, { role: 'user', content: answer }];
    const tool = {
      name: RECORD_TOOL,
      description: 'Record the interview fields the admin\'s message settles',
      parameters: {
        type: 'object', additionalProperties: false,
        properties: Object.fromEntries(this.questions.map(q => [q.key, { type: 'string', description: q.text }])),
      },
    };
    const result = await this.models.chat(this.model, { messages, tools: [tool] }, undefined, { user, via: 'interview' });
    const proposed: Answers = {};
    for (const call of result.toolCalls.filter(c => c.name === RECORD_TOOL)) {
      let args: unknown;
      try { args = JSON.parse(call.arguments); } catch { continue; /* bad JSON from the model settles nothing */ }
      if (!args || typeof args !== 'object') continue;
      for (const q of this.questions) {
        const v = (args as Record<string, unknown>)[q.key];
        if (typeof v === 'string' && v.trim()) proposed[q.key] = v;
      }
    }
    return { proposed, said: result.text.trim(), usage: result.usage };
  }
}
