import { PlinthError, errors, isPlinthError, newId, withSpan, type EventBus, type Logger, type ToolRegistry, type User } from 'plinth/sdk';
import { addUsage, cacheColumns, costOf } from './usage';
import type { AgentChunk, AgentProfile, AgentRuntime, AgentTurnRequest, AgentTurnResult, ChatMessage, FinishReason, Usage } from './contract';
import type { MemoryService } from 'plinth/contracts/memory';
import type { SkillsService } from 'plinth/contracts/skills';
import { AgentStore, DEFAULT_MODEL_ALIAS } from './agent-store';
import type { FrameLog } from './frame-log';
import type { ProviderRouter } from './provider-router';
import type { SessionOrder } from './session-order';
import { SessionStore, toChatHistory, type SessionRecord } from './session-store';
import type { ToolCallRecord, TurnStore } from './turn-store';
import { errorCodes } from './errors';
import { callModel, selectModel } from './model-fallback';
import { systemPrompt } from './prompt-assembly';
import { callTool, toolsFor } from './tool-calls';
import { rollUp, withSubagents, type Delegation, type Rollup, type Subagents } from './subagents';

export interface RuntimeOptions {
  defaultModel(): string;
  price(model: string): { input: number; output: number } | undefined;
  toolTimeoutMs: number;
  memoryHits: number;
  now(): number;
}

export interface RuntimeDeps {
  agents: AgentStore;
  sessions: SessionStore;
  order: SessionOrder; // message numbers and one turn at a time, across kernels
  turns: TurnStore;
  frames: FrameLog;
  router: ProviderRouter;
  tools: ToolRegistry;
  events: EventBus;
  log: Logger;
  memory?: MemoryService;
  skills?: SkillsService;
  /** The text of a message's attachments for the model (text files inline, others described). */
  attachmentsForModel?: (ids: string[], user: User) => Promise<string>;
  /** Sub-agents offered as `subagent.<name>` tools (see subagents.ts). */
  subagents?: Subagents;
}

/** A turn on an existing session, from the HTTP routes (with attachments) or `runTurn`. */
export interface SessionTurnInput {
  session: SessionRecord;
  user: User;
  message: string;
  attachments?: string[];
  signal?: AbortSignal;
  via?: string;
  history?: ChatMessage[];
  onChunk?: (chunk: AgentChunk) => void;
  /** Sub-agent nesting: 0 for a turn asked by a user or a plugin, n for a sub-agent called at depth n. */
  depth?: number;
  /** Appended to the system prompt (a sub-agent's caller and context). */
  extraSystem?: string;
  /** The turn stops (partial) once its own and its sub-agents' cost reach this. */
  maxCostUsd?: number;
}

export type SessionTurnResult = AgentTurnResult & { error?: PlinthError; status?: string; cost?: number; toolCalls?: number; rollup?: Rollup; limit?: string };


/**
 * The agent loop: messages + instructions + skills + memory → model → tool calls (validated and
 * gated by the kernel's registry; any failure goes back to the model as a tool result) → model …
 * until an answer or max_turns. One turn at a time per session.
 */
export class AgentLoop implements AgentRuntime {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: RuntimeDeps, private readonly options: RuntimeOptions) {}

  getAgent(nameOrId: string): Promise<AgentProfile | undefined> {
    return this.deps.agents.find(nameOrId);
  }

  listAgents(): Promise<AgentProfile[]> {
    return this.deps.agents.listAll();
  }

  activeSessions(): string[] {
    return [...this.running.keys()];
  }

  isBusy(sessionId: string): boolean {
    return this.running.has(sessionId);
  }

  /** Stops the turn this kernel runs in the session, if any (its partial answer is stored). */
  stopTurn(sessionId: string): void { this.running.get(sessionId)?.abort(); }

  resolveModel(model: string): string {
    return model === DEFAULT_MODEL_ALIAS ? this.options.defaultModel() : model;
  }

  async createSession(user: User, input: { agent: string; model?: string; name?: string; via?: string }): Promise<SessionRecord> {
    const agent = await this.deps.agents.getVisible(input.agent, user);
    if (agent.kind !== 'llm') throw errors.unprocessable(`agent "${agent.name}" is a ${agent.kind} agent; it runs in a terminal through the runs plugin, not in a session`);
    if (input.model) this.assertModelKnown(input.model);
    const session = await this.deps.sessions.create({ owner: user.id, agentId: agent.id, agentName: agent.name, model: input.model, name: input.name, via: input.via });
    this.publish('agent.session.created', { session }, user.id);
    return session;
  }

  assertModelKnown(model: string): void {
    if (model === DEFAULT_MODEL_ALIAS) return;
    const i = model.indexOf('/');
    if (i <= 0 || i === model.length - 1) throw errors.validation(`model "${model}" must look like <provider>/<model>, e.g. builtin/echo`);
    if (!this.deps.router.has(model.slice(0, i))) {
      throw errorCodes.error('PLINTH_ERR_MODEL_NOT_FOUND', `model "${model}": no provider "${model.slice(0, i)}" (providers: ${this.deps.router.names().join(', ')})`);
    }
  }

  async runTurn(request: AgentTurnRequest): Promise<AgentTurnResult> {
    const agent = await this.deps.agents.getVisible(request.agent, request.user);
    let session: SessionRecord | undefined;
    if (request.sessionId && request.continuity !== 'fresh') {
      session = await this.deps.sessions.getOwned(request.sessionId, request.user);
      // A closed conversation is over: resuming it (a recurring job's next fire) begins a new one.
      if (session.closed_at) session = undefined;
      if (session && session.agent_id !== agent.id) throw errors.conflict(`session ${session.id} belongs to agent "${session.agent_name}", not "${agent.name}"`);
    }
    session ??= await this.createSession(request.user, { agent: agent.id, via: request.via });
    // For callers of the contract (jobs, channels, A2A) a failed model call is an error they can retry on.
    const r = await this.runSessionTurn({ session, user: request.user, message: request.message, signal: request.signal, via: request.via, history: request.history, onChunk: request.onChunk });
    if (r.error) throw r.error;
    return { sessionId: r.sessionId, turnId: r.turnId, text: r.text, usage: r.usage, partial: r.partial };
  }

  /** Never throws for a model failure (an `error` frame and `result.error`); its span parents the tools it calls. */
  runSessionTurn(input: SessionTurnInput): Promise<SessionTurnResult> {
    return withSpan('agent turn', { 'plinth.session': input.session.id, 'plinth.via': input.via ?? 'api' }, () => this.sessionTurn(input));
  }

  private async sessionTurn(input: SessionTurnInput): Promise<SessionTurnResult> {
    const { session, user } = input;
    if (session.closed_at) throw errors.conflict(`session ${session.id} was closed at ${session.closed_at}: its history stays readable; start a new session to continue`);
    if (this.running.has(session.id)) throw errors.conflict(`session ${session.id} is answering another message; wait for its done frame`, { sessionBusy: true });
    const controller = new AbortController();
    this.running.set(session.id, controller);
    const release = await this.deps.order.claimTurn(session.id, newId('hold')).catch(err => { this.running.delete(session.id); throw err; });
    if (!release) { this.running.delete(session.id); throw errors.conflict(`session ${session.id} is answering another message on another kernel; wait for its done frame`, { sessionBusy: true }); }
    const onAbort = () => controller.abort();
    input.signal?.addEventListener('abort', onAbort, { once: true });
    if (input.signal?.aborted) controller.abort();
    try {
      await this.deps.frames.open(session.id);
      return await this.loop(input, controller.signal);
    } finally {
      input.signal?.removeEventListener('abort', onAbort);
      await this.deps.frames.flush(session.id); // the next turn, on any kernel, numbers its frames after these
      await release().catch(err => this.deps.log.warn('releasing a session turn failed', { session: session.id, err: String(err) }));
      this.running.delete(session.id);
      this.deps.frames.close(session.id);
    }
  }

  private async loop(input: SessionTurnInput, signal: AbortSignal): Promise<SessionTurnResult> {
    const { session, user } = input;
    const { sessions, frames, turns } = this.deps;
    const started = this.options.now();
    const agent = await this.deps.agents.find(session.agent_id);
    if (!agent) throw errors.notFound(`agent of session ${session.id} (deleted)`);
    const turnId = newId('turn');
    const emit = (chunk: AgentChunk) => {
      if (chunk.type !== 'usage') frames.append(session.id, 'chunk', { turnId, ...chunk });
      input.onChunk?.(chunk);
    };

    // The user's message is stored before the model is called: a crash from here on loses no input.
    const history = input.history ?? toChatHistory(await sessions.allMessages(session.id));
    const userMessage = await sessions.addMessage(session.id, { role: 'user', content: input.message, attachments: input.attachments, turn_id: turnId });

    const selection = selectModel(this.deps.router, m => this.resolveModel(m), agent, session);
    const depth = input.depth ?? 0;
    const tools = toolsFor(this.deps.tools, agent, await this.deps.subagents?.offered(agent, depth) ?? []);
    const system = [await systemPrompt({ ...this.deps, memoryHits: this.options.memoryHits }, agent, user, session.id, input.message), input.extraSystem].filter(Boolean).join('\n\n');
    const messages: ChatMessage[] = [
      ...(system ? [{ role: 'system' as const, content: system }] : []),
      ...history.filter(m => m.role !== 'system'),
      { role: 'user', content: input.message + (input.attachments?.length ? `\n\n${await (this.deps.attachmentsForModel?.(input.attachments, user) ?? `[attachments: ${input.attachments.join(', ')}]`)}` : '') },
    ];
    await turns.start({ id: turnId, session_id: session.id, owner: user.id, agent: agent.name, model: selection.chosen ?? selection.requested, model_selection: selection, context: messages, via: input.via ?? 'api' });
    // The acknowledgement (the `message` frame) only once the turn is recorded: a crash after it
    // leaves a running turn, marked interrupted at the next start (the chaos run of issue 15 found
    // acknowledged messages with no turn when the frame went out before this).
    frames.append(session.id, 'message', { turnId, message: userMessage });
    this.publish('agent.message.added', { sessionId: session.id, message: userMessage }, user.id);

    const usage: Usage = { inputTokens: 0, outputTokens: 0 };
    const toolRecords: ToolCallRecord[] = [];
    const delegations: Delegation[] = [];
    const executor = withSubagents(this.deps.tools, this.deps.subagents, { user, sessionId: session.id, turnId, message: input.message, depth, signal }, d => delegations.push(d));
    const costSoFar = () => costOf(this.options.price, model, usage) + rollUp(delegations).cost;
    let limit: string | undefined;
    let ttft: number | null = null;
    let finalText = '';
    let partial = false;
    let status: 'ok' | 'partial' | 'error' = 'ok';
    let finishReason: FinishReason | null = null;
    let failure: PlinthError | undefined;
    let model = selection.chosen;
    let answer: { id: string; content: string } | undefined;
    // The answer row being streamed into, with what has streamed so far: kept if the call fails midway.
    let streaming: { id: string; text: string } | undefined;

    try {
      if (!model) throw errorCodes.error('PLINTH_ERR_BREAKER_OPEN', `no model of agent "${agent.name}" is available: ${selection.reason}`, { details: selection });
      let step = 0;
      for (; step < agent.max_turns; step++) {
        // The answer row exists (marked partial) while it streams and is checkpointed, so a crash keeps what was said.
        const row = await sessions.addMessage(session.id, { role: 'assistant', content: '', turn_id: turnId, partial: true });
        const current = streaming = { id: row.id, text: '' };
        finishReason = null;
        let lastSave = this.options.now();
        const result = await callModel(this.deps.router, model, selection, { messages, tools: tools.wire, signal }, delta => {
          if (ttft === null) ttft = this.options.now() - started;
          if (delta.type === 'text') {
            current.text += delta.text;
            emit({ type: 'text', text: delta.text });
            if (this.options.now() - lastSave > 1000) {
              lastSave = this.options.now();
              void sessions.updateMessage(row.id, current.text, true).catch(() => undefined);
            }
          } else emit({ type: 'tool_call', call: { ...delta.call, name: tools.realName(delta.call.name) } });
        });
        streaming = undefined;
        model = result.model;
        finishReason = result.finishReason;
        addUsage(usage, result.usage);
        const calls = result.toolCalls.map(c => ({ ...c, name: tools.realName(c.name) }));
        if (result.finishReason === 'aborted') {
          partial = true;
          finalText = result.text;
          await sessions.updateMessage(row.id, result.text, true);
          answer = { id: row.id, content: result.text };
          break;
        }
        await sessions.updateMessage(row.id, result.text, false, calls);
        answer = { id: row.id, content: result.text };
        if (!calls.length) {
          finalText = result.text;
          break;
        }
        if (input.maxCostUsd !== undefined && costSoFar() >= input.maxCostUsd) {
          limit = `cost limit ${input.maxCostUsd} USD reached; ${calls.length} tool call(s) not made`;
          partial = true;
          finalText = result.text;
          break;
        }
        messages.push({ role: 'assistant', content: result.text, tool_calls: result.toolCalls });
        for (let i = 0; i < calls.length; i++) {
          if (signal.aborted) break;
          const rec = await callTool(executor, this.options.toolTimeoutMs, () => this.options.now(), calls[i], tools.allowed, { user, sessionId: session.id, turnId, signal });
          toolRecords.push(rec);
          const content = typeof rec.output === 'string' ? rec.output : JSON.stringify(rec.output ?? null);
          emit({ type: 'tool_result', callId: rec.id, name: rec.name, ok: rec.ok, output: rec.output });
          await sessions.addMessage(session.id, { role: 'tool', content, tool_call_id: rec.id, name: rec.name, turn_id: turnId });
          messages.push({ role: 'tool', content, tool_call_id: result.toolCalls[i].id, name: result.toolCalls[i].name });
          this.publish('agent.tool.called', { sessionId: session.id, turnId, tool: rec.name, input: rec.input, ok: rec.ok, output: rec.output, durationMs: rec.durationMs }, user.id);
        }
        if (signal.aborted) { partial = true; break; }
      }
      if (step >= agent.max_turns) {
        partial = true;
        finalText = answer?.content ?? '';
      }
    } catch (err) {
      failure = isPlinthError(err) ? err : errorCodes.error('PLINTH_ERR_AGENT', (err as Error)?.message ?? String(err), { cause: err });
      if (!isPlinthError(err)) this.deps.log.error('agent turn failed', { sessionId: session.id, turnId, error: (err as Error)?.stack ?? String(err) });
      partial = true;
      if (streaming) answer = { id: streaming.id, content: streaming.text };
      if (answer) await sessions.updateMessage(answer.id, answer.content, true).catch(() => undefined);
    }
    status = failure ? 'error' : partial ? 'partial' : 'ok';
    const cost = costOf(this.options.price, model, usage);
    const latency = this.options.now() - started;
    if (usage.inputTokens || usage.outputTokens) input.onChunk?.({ type: 'usage', usage });
    await turns.finish(turnId, {
      model: model ?? selection.requested, model_selection: { ...selection, used: model }, tool_calls: toolRecords, ...cacheColumns(usage), input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens, cost, latency_ms: latency, ttft_ms: ttft, status, finish_reason: finishReason, error: failure?.message ?? limit ?? null, delegations,
    });
    await sessions.touch(session.id);
    if (failure) {
      frames.append(session.id, 'error', { turnId, error: { code: failure.code, message: failure.message, ...(failure.details ? { details: failure.details } : {}) } });
    } else {
      frames.append(session.id, 'done', { turnId, message: { id: answer?.id ?? null, role: 'assistant', content: finalText, partial }, usage, partial });
    }
    if (answer) this.publish('agent.message.added', { sessionId: session.id, message: { id: answer.id, role: 'assistant', content: answer.content, partial } }, user.id);
    // `message` is the user's text: the memory plugin records the turn as an episode from this event.
    this.publish('agent.turn.completed', { sessionId: session.id, turnId, agent: agent.name, model, usage, cost, partial, status, message: input.message, text: finalText, error: failure?.message ?? null }, user.id);
    return { sessionId: session.id, turnId, text: finalText, usage, partial, status, cost, toolCalls: toolRecords.length, rollup: rollUp(delegations), ...(limit ? { limit } : {}), ...(failure ? { error: failure } : {}) };
  }

  private publish(topic: string, payload: unknown, owner: string): void {
    void this.deps.events.publish(topic, payload, { owner, audience: 'owner' }).catch(err => this.deps.log.warn('event not published', { topic, error: String(err) }));
  }
}
