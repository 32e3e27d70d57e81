import { randomUUID } from 'node:crypto';
import { Role, TaskState } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { iso, type Clock, type User } from 'plinth/sdk';
import type { AgentRuntime } from 'plinth/contracts/agents';

/** The A2A user of a request: the SDK scopes tasks by `userName`, which is the Plinth user id. */
export class PlinthA2AUser {
  constructor(readonly user: User) {}
  get isAuthenticated(): boolean { return true; }
  get userName(): string { return this.user.id; }
}

type Part = { content: { $case: 'text'; value: string }; metadata: undefined; filename: string; mediaType: string };
const textPart = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

export interface TurnExecutorOptions {
  runtime(): AgentRuntime | undefined;
  defaultAgent(): Promise<string | undefined>;
  clock: Clock;
}

/**
 * An A2A task is one agent turn: `submitted` → `working` → streamed text as an artifact →
 * `completed` (or `failed`, or `canceled` when the turn is aborted). The A2A context id maps to
 * the Plinth session, so follow-up messages in one context continue the same conversation.
 */
export class TurnExecutor implements AgentExecutor {
  private readonly running = new Map<string, { controller: AbortController; contextId: string }>();
  private readonly sessions = new Map<string, string>();

  constructor(private readonly o: TurnExecutorOptions) {}

  execute = async (ctx: RequestContext, bus: ExecutionEventBus): Promise<void> => {
    const { taskId, contextId } = ctx;
    const user = (ctx.context.user as PlinthA2AUser).user;
    const now = () => iso(this.o.clock.now());
    const status = (state: TaskState, text?: string) => AgentEvent.statusUpdate({
      taskId, contextId, metadata: undefined,
      status: { state, timestamp: now(), message: text === undefined ? undefined : this.agentMessage(taskId, contextId, text) },
    } as any);

    if (!ctx.task) {
      bus.publish(AgentEvent.task({
        id: taskId, contextId, status: { state: TaskState.TASK_STATE_SUBMITTED, timestamp: now(), message: undefined },
        history: [ctx.userMessage], artifacts: [], metadata: {},
      } as any));
    } else {
      bus.publish(AgentEvent.task(ctx.task));
    }
    const runtime = this.o.runtime();
    const agent = (ctx.userMessage.metadata?.agent as string | undefined) ?? await this.o.defaultAgent();
    if (!runtime || !agent) {
      bus.publish(status(TaskState.TASK_STATE_FAILED, runtime ? 'no agent is configured to answer A2A messages' : 'the agent runtime is not available'));
      bus.finished();
      return;
    }
    const text = ctx.userMessage.parts.map(p => (p.content?.$case === 'text' ? p.content.value : '')).filter(Boolean).join('\n');
    const controller = new AbortController();
    this.running.set(taskId, { controller, contextId });
    bus.publish(status(TaskState.TASK_STATE_WORKING));
    let chunks = 0;
    try {
      const result = await runtime.runTurn({
        agent, message: text, user, via: 'a2a', signal: controller.signal,
        sessionId: this.sessions.get(`${user.id}:${contextId}`),
        onChunk: chunk => {
          if (chunk.type !== 'text' || controller.signal.aborted) return;
          bus.publish(AgentEvent.artifactUpdate({
            taskId, contextId, append: chunks++ > 0, lastChunk: false, metadata: undefined,
            artifact: { artifactId: 'answer', name: 'answer', description: '', parts: [textPart(chunk.text)], metadata: undefined, extensions: [] },
          } as any));
        },
      });
      this.sessions.set(`${user.id}:${contextId}`, result.sessionId);
      if (controller.signal.aborted) return; // cancelTask already published the final state
      bus.publish(status(TaskState.TASK_STATE_COMPLETED, result.text));
    } catch (err) {
      if (controller.signal.aborted) return;
      bus.publish(status(TaskState.TASK_STATE_FAILED, `the agent turn failed: ${(err as Error).message}`));
    } finally {
      this.running.delete(taskId);
      bus.finished();
    }
  };

  cancelTask = async (taskId: string, bus: ExecutionEventBus): Promise<void> => {
    const run = this.running.get(taskId);
    run?.controller.abort();
    bus.publish(AgentEvent.statusUpdate({
      taskId, contextId: run?.contextId ?? '', metadata: undefined,
      status: { state: TaskState.TASK_STATE_CANCELED, timestamp: iso(this.o.clock.now()), message: undefined },
    } as any));
    bus.finished();
  };

  abortAll(): void {
    for (const r of this.running.values()) r.controller.abort();
  }

  private agentMessage(taskId: string, contextId: string, text: string) {
    return { messageId: randomUUID(), contextId, taskId, role: Role.ROLE_AGENT, parts: [textPart(text)], metadata: undefined, extensions: [], referenceTaskIds: [] };
  }
}
