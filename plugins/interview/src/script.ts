/** The scripted questions of the setup interview (what the builtin model "asks"). */
export type Answers = Record<string, string>;

export interface Question {
  key: string;
  text: string;
  secret?: boolean;
  /** Asked only when this holds for the answers so far. */
  when?: (a: Answers) => boolean;
  /** The normalised answer, or a reason to ask again. */
  check: (answer: string, a: Answers) => { ok: true; value: string } | { ok: false; problem: string };
}

const ok = (value: string) => ({ ok: true as const, value });
const bad = (problem: string) => ({ ok: false as const, problem });

export const PROVIDER_MODELS: Record<string, string> = { builtin: 'builtin/echo', openai: 'openai/gpt-4o-mini', anthropic: 'anthropic/claude-haiku-4-5' };

export const SCRIPT: Question[] = [
  {
    key: 'provider', text: 'Which model provider should your agents use: builtin (offline, echoes), openai or anthropic?',
    check: a => (PROVIDER_MODELS[a.trim().toLowerCase()] ? ok(a.trim().toLowerCase()) : bad(`"${a.trim().slice(0, 40)}" is not one of builtin, openai, anthropic`)),
  },
  {
    key: 'apiKey', secret: true, when: a => a.provider !== 'builtin', text: 'Paste the API key of that provider (it is stored encrypted and never shown again).',
    check: a => (/^\S{8,500}$/.test(a.trim()) ? ok(a.trim()) : bad('an API key is one word of at least 8 characters')),
  },
  {
    key: 'agentName', text: 'What should your agent be called (letters, digits, . _ -)?',
    check: a => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(a.trim()) ? ok(a.trim()) : bad('a name starts with a letter or digit and has only letters, digits, ".", "_" and "-"')),
  },
  {
    key: 'instructions', text: 'What should it do? Describe it in a sentence or more; this becomes its instructions.',
    check: a => (a.trim().length >= 10 ? ok(a.trim()) : bad('say a little more: at least 10 characters')),
  },
  {
    key: 'channels', text: 'Which channels should reach it: none or telegram?',
    check: a => {
      const v = a.trim().toLowerCase();
      return v === 'none' || v === 'telegram' ? ok(v) : bad(`"${v.slice(0, 40)}" is not none or telegram (other channels are set up in settings)`);
    },
  },
  {
    key: 'telegramToken', secret: true, when: a => a.channels === 'telegram', text: 'Paste the Telegram bot token BotFather gave you (123456:ABC…).',
    check: a => (/^\d{3,20}:[A-Za-z0-9_-]{20,100}$/.test(a.trim()) ? ok(a.trim()) : bad('a bot token looks like 123456789:AAH… (digits, a colon, then at least 20 letters, digits, _ or -)')),
  },
];

/** The next question for these answers, or undefined when the interview is complete. */
export function nextQuestion(a: Answers): Question | undefined {
  return SCRIPT.find(q => !(q.key in a) && (!q.when || q.when(a)));
}
