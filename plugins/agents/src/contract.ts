/**
 * Contract of the agent runtime (issue: agent runtime), provided by the `agents` plugin.
 * Other plugins (jobs, channels, A2A, MCP, OpenAI-compatible API) run agent turns through it.
 */
import { createServiceRef, type Disposer, type User } from 'plinth/sdk';

export interface AgentProfile {
  id: string;
  name: string;
  kind: 'llm' | 'cli';
  /** `<provider>/<model>`, e.g. `builtin/echo`. */
  model: string;
  instructions: string;
  allowed_tools: string[];
  max_turns: number;
  cli_name?: string | null;
  provider_config?: Record<string, unknown> | null;
  role?: string | null;
  fallback_models?: string[];
  owner: string | null;
}

export interface ToolCallRequest {
  id: string;
  name: string;
  /** JSON text, as models produce it. */
  arguments: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: ToolCallRequest[];
  tool_call_id?: string;
  name?: string;
}

export interface Usage {
  inputTokens: number; outputTokens: number;
  /** Prompt-cache figures, only when the provider reports them: tokens read from its cache (a hit), tokens written to it. */
  cacheReadTokens?: number; cacheWriteTokens?: number;
}

/** Streamed pieces of a turn, in order. */
export type AgentChunk =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; call: ToolCallRequest }
  | { type: 'tool_result'; callId: string; name: string; ok: boolean; output: unknown }
  | { type: 'usage'; usage: Usage };

export interface AgentTurnRequest {
  /** Agent name or id. */
  agent: string;
  message: string;
  user: User;
  /** Continue this session; a new one is created when absent (or with continuity `fresh`). */
  sessionId?: string;
  continuity?: 'fresh' | 'resume';
  signal?: AbortSignal;
  /** Where the turn comes from, for traces: `api`, `job:<id>`, `channel:telegram`, `a2a`, … */
  via?: string;
  onChunk?: (chunk: AgentChunk) => void;
  /**
   * Earlier messages of a conversation kept by the caller (the OpenAI-compatible API sends the
   * whole history each time); used instead of the stored session's history when given.
   */
  history?: ChatMessage[];
}

export interface AgentTurnResult {
  sessionId: string;
  turnId: string;
  text: string;
  usage: Usage;
  /** True when the turn was cut short (abort, max_turns, provider failure). */
  partial: boolean;
}

export interface AgentRuntime {
  getAgent(nameOrId: string): Promise<AgentProfile | undefined>;
  listAgents(): Promise<AgentProfile[]>;
  /**
   * A session already answering another message (here, or on a kernel that died less than a turn
   * lease ago) throws PLINTH_ERR_CONFLICT with details `{ sessionBusy: true }`: try again later.
   */
  runTurn(request: AgentTurnRequest): Promise<AgentTurnResult>;
}

export const agentRuntimeRef = createServiceRef<AgentRuntime>({ id: 'agents.runtime' });

// ---------------------------------------------------------------- model providers

export interface ChatRequest {
  /** The model id without the provider prefix. */
  model: string;
  messages: ChatMessage[];
  tools?: Array<{ name: string; description: string; parameters: Record<string, unknown> }>;
  signal?: AbortSignal;
  temperature?: number;
  maxTokens?: number;
}

export type ChatDelta = { type: 'text'; text: string } | { type: 'tool_call'; call: ToolCallRequest };

/**
 * Why the model stopped, in OpenAI's words (Anthropic's `stop_reason` mapped onto them): `stop`
 * (its answer is complete), `length` (its output token limit cut it), `tool_calls`,
 * `content_filter` (the provider withheld or cut it); `aborted` (the caller went away), `error`.
 */
export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'aborted' | 'error';

export interface ChatResult {
  text: string;
  toolCalls: ToolCallRequest[];
  usage: Usage;
  finishReason: FinishReason;
}

/** A model provider; third-party plugins add one through `modelProvidersRef`. */
export interface ModelProvider {
  /** The `<provider>` part of model ids. */
  name: string;
  listModels(): Promise<Array<{ id: string; contextWindow?: number }>>;
  chat(request: ChatRequest, onDelta?: (delta: ChatDelta) => void): Promise<ChatResult>;
}

export interface ModelProviderRegistry {
  register(provider: ModelProvider): Disposer;
}

export const modelProvidersRef = createServiceRef<ModelProviderRegistry>({ id: 'agents.providers' });

/**
 * Calling a model by its full id (`openai/gpt-4o-mini`) through the registered providers, with the
 * runtime's circuit breaker, fallbacks and stats: what the OpenAI-compatible API proxies to.
 */
export interface ModelRouter {
  /** Every model the registered providers offer, as full ids. */
  listModels(): Promise<Array<{ id: string; provider: string; contextWindow?: number }>>;
  /** Throws a PlinthError 404 for an unknown provider or model, 503 when its breaker is open. */
  chat(model: string, request: Omit<ChatRequest, 'model'>, onDelta?: (delta: ChatDelta) => void,
    meta?: { user?: User; via?: string }): Promise<ChatResult & { model: string }>;
}

export const modelRouterRef = createServiceRef<ModelRouter>({ id: 'agents.models' });

// ---------------------------------------------------------------- turn records (read-only)

export interface TurnToolCall { id: string; name: string; input: unknown; ok: boolean; output: unknown; durationMs: number }

/** A stored turn as `GET /api/turns/:id` shows it, with the messages sent to the model. */
export interface TurnView {
  id: string;
  session_id: string | null;
  owner: string;
  agent: string | null;
  model: string;
  model_selection: Record<string, unknown>;
  context: ChatMessage[];
  tool_calls: TurnToolCall[];
  input_tokens: number;
  output_tokens: number;
  cost: number;
  latency_ms: number;
  ttft_ms: number | null;
  status: 'running' | 'ok' | 'partial' | 'error' | 'interrupted';
  /** The last model call's finish reason; null while running, when no call finished, and on turns recorded before it was kept. */
  finish_reason: FinishReason | null;
  error: string | null;
  via: string | null;
  created_at: string;
  completed_at: string | null;
}

/**
 * Reading what the runtime recorded — turns, their grades, the providers' breakers and prices —
 * for plugins that analyse it (insights). Ownership is the runtime's: another user's turn or
 * session is a 404.
 */
export interface TurnRecords {
  turn(id: string, user: User): Promise<TurnView>;
  sessionTurns(sessionId: string, user: User): Promise<TurnView[]>;
  /** The newest finished turns with their grade (1-5, null when ungraded); `owner` undefined: everyone's. */
  recentTurns(owner: string | undefined, limit: number): Promise<Array<TurnView & { grade: number | null }>>;
  breakers(): Array<{ provider: string; breaker: string }>;
  /** What a user's finished turns cost in all (the stats' spend ledger), in USD. */
  spend(owner: string): Promise<{ cost: number; turns: number }>;
  /** USD per million tokens, when configured. */
  price(model: string): { input: number; output: number } | undefined;
  defaultModel(): string;
}

export const turnRecordsRef = createServiceRef<TurnRecords>({ id: 'agents.turnRecords' });

// ---------------------------------------------------------------- agent instances

export type InstanceState = 'starting' | 'running' | 'idle' | 'stopping' | 'stopped' | 'failed';

/** A message in an instance's queue and what became of it. */
export interface InstanceQueueItem { id: string; agent_id: string; state: 'ready' | 'running' | 'done' | 'failed'; turn_id: string | null; result: string | null; error: string | null }

/** Work for an agent running as an instance (POST /api/agents/:id/start): kept in a durable queue until its turn is done. */
export interface AgentInstances {
  /**
   * Queues a message for the agent's instance (it waits while the instance is stopped). The turn runs
   * as the user who started the instance, so `user` must be an admin or the agent's owner. With a
   * `key`, queuing again answers the item already queued under it (a retried job queues once).
   */
  enqueueForInstance(agent: string, input: { message: string; source?: string; key?: string }, user: User): Promise<InstanceQueueItem>;
  /** Resolves once the item is done or failed; rejects on abort. */
  awaitInstanceItem(id: string, signal?: AbortSignal): Promise<InstanceQueueItem>;
}

export const agentInstancesRef = createServiceRef<AgentInstances>({ id: 'agents.instances' });
