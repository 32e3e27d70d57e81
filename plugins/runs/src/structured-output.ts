/**
 * Run events from the CLIs' structured output, besides the raw terminal output:
 * - Claude Code `-p --output-format stream-json --verbose` (docs.claude.com/en/docs/claude-code/
 *   sdk/sdk-headless, the SDK message types): `system/init` (session_id, claude_code_version),
 *   `assistant` messages (text and tool_use blocks; a `Task` tool use starts a subagent),
 *   `user` messages with tool_result blocks, `stream_event` text deltas (with
 *   --include-partial-messages), and the `result` (permission denials need attention).
 * - Codex `codex exec --json` (github.com/openai/codex docs/exec.md): `thread.started`,
 *   `item.started` / `item.completed` (agent_message, command_execution, file_change,
 *   mcp_tool_call, web_search), `turn.failed` and `error`.
 */
export interface StructuredEvent { type: string; data: Record<string, unknown> }

type LineParser = (msg: any, state: Map<string, string>) => StructuredEvent[];

const claudeCode: LineParser = (m, subagents) => {
  const out: StructuredEvent[] = [];
  if (m.type === 'system' && m.subtype === 'init') {
    out.push({ type: 'session.init', data: { session_id: m.session_id ?? null, cli_version: m.claude_code_version ?? null, model: m.model ?? null } });
  } else if (m.type === 'stream_event' && m.event?.type === 'content_block_delta' && m.event.delta?.type === 'text_delta') {
    out.push({ type: 'agent.token', data: { text: m.event.delta.text } });
  } else if (m.type === 'assistant' && Array.isArray(m.message?.content)) {
    for (const b of m.message.content) {
      if (b.type === 'text' && b.text) out.push({ type: 'agent.message', data: { text: b.text, parent_tool_use_id: m.parent_tool_use_id ?? null } });
      if (b.type === 'tool_use') {
        out.push({ type: 'agent.tool_call', data: { tool: b.name, input: b.input ?? {}, tool_use_id: b.id } });
        if (b.name === 'Task' || b.name === 'Agent') {
          subagents.set(b.id, String(b.input?.subagent_type ?? 'general-purpose'));
          out.push({ type: 'agent.subagent_start', data: { agent: subagents.get(b.id), description: b.input?.description ?? null, tool_use_id: b.id } });
        }
      }
    }
  } else if (m.type === 'user' && Array.isArray(m.message?.content)) {
    for (const b of m.message.content) {
      if (b.type !== 'tool_result') continue;
      out.push({ type: 'agent.tool_result', data: { tool_use_id: b.tool_use_id, response: b.content ?? null, is_error: b.is_error === true } });
      if (subagents.has(b.tool_use_id)) {
        out.push({ type: 'agent.subagent_stop', data: { agent: subagents.get(b.tool_use_id), tool_use_id: b.tool_use_id } });
        subagents.delete(b.tool_use_id);
      }
    }
  } else if (m.type === 'result' && Array.isArray(m.permission_denials) && m.permission_denials.length) {
    out.push({ type: 'agent.needs_attention', data: { message: `permission denied for ${m.permission_denials.map((d: any) => d.tool_name).join(', ')}`, denials: m.permission_denials } });
  }
  return out;
};

const CODEX_TOOLS = ['command_execution', 'file_change', 'mcp_tool_call', 'web_search'];
const codexInput = (item: any) =>
  item.type === 'command_execution' ? { command: item.command }
    : item.type === 'file_change' ? { changes: item.changes ?? [] }
      : item.type === 'mcp_tool_call' ? { server: item.server, tool: item.tool, arguments: item.arguments ?? null }
        : { query: item.query ?? null };

const codex: LineParser = m => {
  const item = m.item;
  if (m.type === 'thread.started') return [{ type: 'session.init', data: { session_id: m.thread_id ?? null, cli_version: null } }];
  if (m.type === 'turn.failed') return [{ type: 'agent.needs_attention', data: { message: m.error?.message ?? 'the turn failed' } }];
  if (m.type === 'error') return [{ type: 'agent.needs_attention', data: { message: m.message ?? 'error' } }];
  if (!item || typeof item !== 'object') return [];
  if (m.type === 'item.completed' && item.type === 'agent_message') return [{ type: 'agent.message', data: { text: item.text ?? '' } }];
  if (!CODEX_TOOLS.includes(item.type)) return [];
  if (m.type === 'item.started') return [{ type: 'agent.tool_call', data: { tool: item.type, input: codexInput(item), tool_use_id: item.id } }];
  if (m.type === 'item.completed') {
    return [{ type: 'agent.tool_result', data: {
      tool: item.type, tool_use_id: item.id, response: item.aggregated_output ?? item.result ?? null,
      exit_code: item.exit_code ?? null, is_error: item.status === 'failed' || (typeof item.exit_code === 'number' && item.exit_code !== 0),
    } }];
  }
  return [];
};

const PARSERS: Record<string, LineParser> = { 'claude-code': claudeCode, codex };

/**
 * Feeds a run's output (terminal chunks, any split) and answers the events of each complete JSON
 * line. Terminal output has CR LF and may carry escape sequences around lines that are not JSON;
 * those are skipped.
 */
export class StructuredOutput {
  private buf = '';
  private readonly state = new Map<string, string>();

  private constructor(private readonly parse: LineParser) {}

  static for(adapter: string): StructuredOutput | undefined {
    const p = PARSERS[adapter];
    return p ? new StructuredOutput(p) : undefined;
  }

  feed(chunk: string): StructuredEvent[] {
    this.buf += chunk;
    if (this.buf.length > 8 * 1024 * 1024) this.buf = this.buf.slice(-1024 * 1024);
    const out: StructuredEvent[] = [];
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).replace(/\r$/, '').trim();
      this.buf = this.buf.slice(i + 1);
      if (!line.startsWith('{')) continue;
      let msg: unknown;
      try { msg = JSON.parse(line); } catch { continue; }
      out.push(...this.parse(msg, this.state));
    }
    return out;
  }
}
