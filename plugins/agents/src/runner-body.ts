/**
 * The coding-agent runner's `POST /api/agents` body, accepted beside Plinth's own (issue 16):
 * `project_id` (the agent belongs to that project; kept in provider_config, where the runs plugin
 * reads it), `cli_name` defaulting to claude-code when a project is given, `allowed_tools` as a
 * comma-separated string, a `model` without a provider prefix, `max_turns` default 100 and
 * `role` default builder. The answer is Plinth's agent.
 */
export interface RunnerAgentBody {
  project_id?: string;
  model?: string;
  allowed_tools?: string | string[];
  cli_name?: string | null;
  kind?: 'llm' | 'cli';
  role?: string | null;
  provider_config?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** Model families a bare model name maps to, for llm agents. */
const PROVIDER_OF: Array<[RegExp, string]> = [[/^claude/, 'anthropic'], [/^(gpt|o[1-9]|chatgpt)/, 'openai'], [/^gemini/, 'google']];

export function fromRunnerBody<T extends RunnerAgentBody>(body: T): T {
  const out: RunnerAgentBody = { ...body };
  if (typeof out.allowed_tools === 'string') out.allowed_tools = out.allowed_tools.split(',').map(s => s.trim()).filter(Boolean);
  if (out.project_id !== undefined) {
    out.provider_config = { ...(out.provider_config ?? {}), project_id: out.project_id };
    out.cli_name ??= 'claude-code';
    out.kind ??= 'cli';
    out.role ??= 'builder';
    delete out.project_id;
  }
  if (out.cli_name && !out.kind) out.kind = 'cli';
  const model = out.model;
  if (model && model !== 'default' && !model.includes('/')) {
    if (out.kind === 'cli') {
      // The CLI's own model (claude --model sonnet, codex --model gpt-5): passed to the CLI, not to a provider.
      out.provider_config = { ...(out.provider_config ?? {}), model };
      delete out.model;
    } else {
      const provider = PROVIDER_OF.find(([re]) => re.test(model))?.[1];
      if (provider) out.model = `${provider}/${model}`;
    }
  }
  return out as T;
}
