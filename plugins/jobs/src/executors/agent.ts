import type { AgentInstances, AgentRuntime } from 'plinth/contracts/agents';
import type { JobExecutor } from '../contract';
import { AgentRequest } from '../schemas';

/**
 * Runs one agent turn through the agents plugin's runtime. The runtime is an optional
 * dependency: without it, an agent job fails with a reason instead of the kernel refusing to start.
 */
export function agentExecutor(runtime: () => AgentRuntime | undefined, instances: () => AgentInstances | undefined = () => undefined): JobExecutor {
  return {
    kind: 'agent',
    requestSchema: AgentRequest,
    async run(ctx) {
      const rt = runtime();
      if (!rt) throw new Error('no agent runtime: enable the agents plugin to run agent jobs');
      const req = ctx.job.request as { agent: string; message: string; sessionId?: string; continuity?: 'fresh' | 'resume'; feedback?: string; instance?: boolean; artifact?: string };
      const message = req.feedback ? `${req.message}\n\nFeedback on the previous result:\n${req.feedback}` : req.message;
      const parents = Object.keys(ctx.job.parentResults).length
        ? `\n\nResults of the jobs this one depends on:\n${JSON.stringify(ctx.job.parentResults, null, 2)}` : '';
      if (req.instance) {
        const inst = instances();
        if (!inst) throw new Error('no agent instances: enable the agents plugin to address a job to an instance');
        // Keyed by the job: an attempt retried after a crash waits for the same queue item instead of queuing another.
        const queued = await inst.enqueueForInstance(req.agent, { message: message + parents, source: `job:${ctx.job.id}`, key: `job:${ctx.job.id}` }, ctx.user);
        ctx.log(`queued for the instance of ${req.agent} as ${queued.id}`);
        const item = await inst.awaitInstanceItem(queued.id, ctx.signal);
        if (item.state === 'failed') throw new Error(`the instance's turn failed: ${item.error}`);
        if (req.artifact) await ctx.saveArtifact?.(req.artifact, String(item.result ?? ''));
        return { text: item.result, turnId: item.turn_id, instanceItem: item.id };
      }
      let text = '';
      const result = await rt.runTurn({
        agent: req.agent, message: message + parents, user: ctx.user, signal: ctx.signal, via: `job:${ctx.job.id}`,
        continuity: req.continuity ?? 'fresh', sessionId: req.continuity === 'resume' ? req.sessionId : undefined,
        onChunk: chunk => {
          if (chunk.type === 'text') { text += chunk.text; return; }
          if (text) { ctx.log(text); text = ''; }
          if (chunk.type === 'tool_call') ctx.log(`[tool] ${chunk.call.name} ${chunk.call.arguments}`);
          if (chunk.type === 'tool_result') ctx.log(`[tool ${chunk.ok ? 'ok' : 'error'}] ${chunk.name}`);
        },
      });
      if (text) ctx.log(text);
      if (result.partial) throw new Error('the agent turn was cut short');
      // The agent's answer is the artifact (a report, a summary) under the name the request gave.
      if (req.artifact) await ctx.saveArtifact?.(req.artifact, result.text);
      return { text: result.text, sessionId: result.sessionId, turnId: result.turnId, usage: result.usage };
    },
  };
}
