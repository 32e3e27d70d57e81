import type { Disposer, JsonSchema, User } from './types';

/** The tool registry as plugins see it, and the tool policy (re-exported by types.ts). */

// ---------------------------------------------------------------- tools

export type ToolRisk = 'safe' | 'gated' | 'blocked';

export interface ToolCallContext {
  user: User;
  sessionId?: string;
  jobId?: string;
  turnId?: string;
  signal?: AbortSignal;
  /** Where the call comes from, for audits: `agent`, `mcp`, `api`, `job`, … */
  via?: string;
  /** A way back to the caller while the tool runs, when its transport has one (MCP does). */
  caller?: ToolCaller;
}

/**
 * Messages a running tool may send to whoever called it. MCP maps them to `notifications/message`,
 * `notifications/progress` and server-to-client requests (`sampling/createMessage`,
 * `elicitation/create`); callers without such a channel leave `ToolCallContext.caller` unset.
 */
export interface ToolCaller {
  log(level: 'debug' | 'info' | 'notice' | 'warning' | 'error', data: unknown): Promise<void>;
  /** Only delivered when the caller asked for progress (MCP: a `progressToken`). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Rejects when the caller does not support the method. */
  request(method: string, params: Record<string, unknown>): Promise<unknown>;
}

export interface ToolDefinition<I = any, O = unknown> {
  /** Short name; the registry prefixes it with the plugin id (`search` → `memory.search`). */
  name: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  risk: ToolRisk;
  run(input: I, ctx: ToolCallContext): Promise<O> | O;
}

export interface ToolInfo {
  name: string;
  plugin: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  risk: ToolRisk;
}

export interface ToolRegistry {
  register<I, O>(tool: ToolDefinition<I, O>): Disposer;
  list(): ToolInfo[];
  get(name: string): ToolInfo | undefined;
  /** Validates input, asks approvals for `gated` tools (refused when none is present), runs. */
  execute(name: string, input: unknown, ctx: ToolCallContext): Promise<unknown>;
  /** Called whenever the set of tools changes (reload, toggle). */
  onChange(listener: () => void): Disposer;
}

/**
 * The kernel's tool policy, under `toolPolicyRef`: the tool registry asks it before a `gated`
 * tool runs. The kernel owns the service; a plugin implements it (the approvals plugin does) by
 * naming `core.toolPolicy` under `contributes.services` in its manifest and returning it from setup.
 * Without one, `gated` tools are refused (fail closed).
 */
export interface ApprovalDecision { approved: boolean; reason?: string; requestId?: string }
export interface ToolPolicyService {
  /** Policy may raise or lower a tool's declared risk (per-tool overrides, auto-approve lists). */
  riskFor?(tool: string, declared: ToolRisk, user: User): ToolRisk;
  request(input: { tool: string; input: unknown; ctx: ToolCallContext; risk: ToolRisk }): Promise<ApprovalDecision>;
}
