import { isPlinthError, type ToolPolicyService, type ToolCaller, type ToolInfo, type ToolRegistry, type User } from 'plinth/sdk';
import type { AgentRuntime } from 'plinth/contracts/agents';
import type { McpPromptResult, McpResourceContents } from './contract';
import type { MemoryService } from 'plinth/contracts/memory';
import type { SkillsService } from 'plinth/contracts/skills';
import { McpExtensionRegistry, matchUriTemplate } from './extensions';

export interface CatalogDeps {
  tools: ToolRegistry;
  extensions: McpExtensionRegistry;
  gate?: ToolPolicyService;
  skills?: SkillsService;
  memory?: MemoryService;
  agents?: AgentRuntime;
}

/** Raised for a protocol-level error (unknown tool, resource or prompt): JSON-RPC -32602. */
export class McpLookupError extends Error {}

export interface McpTool { name: string; title?: string; description: string; inputSchema: Record<string, unknown>; outputSchema?: Record<string, unknown>; annotations?: Record<string, unknown> }
export interface CallToolResult { content: Array<Record<string, unknown>>; structuredContent?: Record<string, unknown>; isError?: boolean; [k: string]: unknown }

const SKILL_PREFIX = 'skill://';
const MEMORY_TEMPLATE = 'memory://semantic/{query}';
const AGENT_PROMPT_PREFIX = 'agent.';

/**
 * What one MCP caller sees: the kernel's tools minus those blocked for it, the resources and
 * prompts other plugins contributed, enabled skills and the caller's semantic memory as
 * resources, and agents' instructions as prompts. Stateless: sessions share one catalog.
 */
export class McpCatalog {
  constructor(private readonly deps: CatalogDeps) {}

  listTools(user: User): McpTool[] {
    const out: McpTool[] = [];
    const visible = (info: ToolInfo) => this.riskFor(info, user) !== 'blocked';
    for (const info of this.deps.tools.list()) if (visible(info)) out.push(toMcpTool(info.name, info, this.riskFor(info, user)));
    for (const [alias, target] of this.deps.extensions.aliases) {
      const info = this.deps.tools.get(target);
      if (info && visible(info)) out.push(toMcpTool(alias, info, this.riskFor(info, user)));
    }
    return out;
  }

  async callTool(name: string, args: unknown, user: User, caller: ToolCaller, signal?: AbortSignal): Promise<CallToolResult> {
    const registryName = this.deps.extensions.aliases.get(name) ?? name;
    if (!this.deps.tools.get(registryName)) throw new McpLookupError(`Unknown tool: ${name}`);
    try {
      const output = await this.deps.tools.execute(registryName, args ?? {}, { user, via: 'mcp', signal, caller });
      return toCallToolResult(output);
    } catch (err) {
      // A refusal (validation, blocked, not approved) or a failure is a tool error the model can read, not a protocol error.
      const text = isPlinthError(err) ? `${err.code}: ${err.message}` : `tool ${name} failed: ${(err as Error)?.message ?? String(err)}`;
      return { content: [{ type: 'text', text }], isError: true };
    }
  }

  async listResources(user: User): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    for (const r of this.deps.extensions.resources.values()) out.push(strip({ uri: r.uri, name: r.name, title: r.title, description: r.description, mimeType: r.mimeType }));
    if (this.deps.skills) {
      for (const s of await this.deps.skills.enabled()) {
        out.push({ uri: SKILL_PREFIX + encodeURIComponent(s.id), name: s.name, description: s.description, mimeType: 'text/markdown' });
      }
    }
    void user;
    return out;
  }

  listResourceTemplates(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [...this.deps.extensions.templates.values()].map(t => strip({ uriTemplate: t.uriTemplate, name: t.name, title: t.title, description: t.description, mimeType: t.mimeType }));
    if (this.deps.memory) out.push({ uriTemplate: MEMORY_TEMPLATE, name: 'semantic-memory', description: "The caller's semantic memory items relevant to a query", mimeType: 'application/json' });
    return out;
  }

  async readResource(uri: string, user: User): Promise<McpResourceContents[]> {
    const fixed = this.deps.extensions.resources.get(uri);
    if (fixed) return fixed.read(uri, user);
    for (const t of this.deps.extensions.templates.values()) {
      const vars = matchUriTemplate(t.uriTemplate, uri);
      if (vars) return t.read(uri, vars, user);
    }
    if (this.deps.skills && uri.startsWith(SKILL_PREFIX)) {
      const skill = await this.deps.skills.load(decodeURIComponent(uri.slice(SKILL_PREFIX.length)));
      if (skill?.summary.enabled) return [{ uri, mimeType: 'text/markdown', text: skill.content }];
    }
    const memoryQuery = this.deps.memory && matchUriTemplate(MEMORY_TEMPLATE, uri);
    if (memoryQuery) {
      // Memory is per user: the service answers only the caller's own items.
      const hits = await this.deps.memory!.relevant({ user, query: memoryQuery.query, limit: 20, kinds: ['semantic'] });
      return [{ uri, mimeType: 'application/json', text: JSON.stringify(hits) }];
    }
    throw new McpLookupError(`Resource ${uri} not found`);
  }

  async listPrompts(user: User): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [...this.deps.extensions.prompts.values()].map(p => strip({ name: p.name, title: p.title, description: p.description, arguments: p.arguments }));
    for (const agent of await this.visibleAgents(user)) {
      out.push({
        name: AGENT_PROMPT_PREFIX + agent.name,
        description: `Instructions of the agent ${agent.name}`,
        arguments: [{ name: 'task', description: 'What to ask the agent', required: false }],
      });
    }
    return out;
  }

  async getPrompt(name: string, args: Record<string, string>, user: User): Promise<McpPromptResult> {
    const prompt = this.deps.extensions.prompts.get(name);
    if (prompt) {
      const missing = (prompt.arguments ?? []).filter(a => a.required && args[a.name] === undefined).map(a => a.name);
      if (missing.length) throw new McpLookupError(`Prompt ${name} needs the arguments: ${missing.join(', ')}`);
      return prompt.get(args, user);
    }
    if (name.startsWith(AGENT_PROMPT_PREFIX)) {
      const agent = (await this.visibleAgents(user)).find(a => a.name === name.slice(AGENT_PROMPT_PREFIX.length));
      if (agent) {
        const messages: McpPromptResult['messages'] = [{ role: 'user', content: { type: 'text', text: agent.instructions } }];
        if (args.task) messages.push({ role: 'user', content: { type: 'text', text: args.task } });
        return { description: `Instructions of the agent ${agent.name}`, messages };
      }
    }
    throw new McpLookupError(`Prompt ${name} not found`);
  }

  async complete(ref: { type: string; name?: string; uri?: string }, argument: { name: string; value: string }): Promise<string[]> {
    if (ref.type === 'ref/prompt' && ref.name) {
      const prompt = this.deps.extensions.prompts.get(ref.name);
      if (prompt?.complete) return (await prompt.complete(argument.name, argument.value)).slice(0, 100);
    }
    return [];
  }

  private async visibleAgents(user: User) {
    if (!this.deps.agents) return [];
    const agents = await this.deps.agents.listAgents();
    return agents.filter(a => a.owner === null || a.owner === user.id || user.role === 'admin');
  }

  private riskFor(info: ToolInfo, user: User) {
    return this.deps.gate?.riskFor?.(info.name, info.risk, user) ?? info.risk;
  }
}

function toMcpTool(name: string, info: ToolInfo, risk: string): McpTool {
  return strip({
    name,
    description: info.description,
    inputSchema: { type: 'object', ...info.inputSchema },
    outputSchema: info.outputSchema ? { type: 'object', ...info.outputSchema } : undefined,
    // Tells clients up front which calls wait for a human's approval.
    annotations: risk === 'gated' ? { destructiveHint: true } : undefined,
  }) as McpTool;
}

/**
 * A tool that already answers in MCP's shape (`{ content: [...] }`) passes through; any other
 * value becomes JSON text, and structured content when it is an object.
 */
export function toCallToolResult(output: unknown): CallToolResult {
  if (output && typeof output === 'object' && Array.isArray((output as CallToolResult).content)) return output as CallToolResult;
  if (typeof output === 'string') return { content: [{ type: 'text', text: output }] };
  const text = output === undefined ? 'null' : JSON.stringify(output);
  const structured = output && typeof output === 'object' && !Array.isArray(output) ? output as Record<string, unknown> : undefined;
  return structured ? { content: [{ type: 'text', text }], structuredContent: structured } : { content: [{ type: 'text', text }] };
}

function strip<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
