import type { AgentRuntime } from 'plinth/contracts/agents';
import type { JobExecutor } from '../contract';
import { AgentRequest } from '../schemas';

/**
 * Runs one agent turn through the agents plugin's runtime. The runtime is an optional
 * dependency: without it, an agent job fails with a reason instead of the kernel refusing to start.
 */
export function agentExecutor(runtime: () => AgentRuntime | undefined): JobExecutor {
  return {
    kind: 'agent',
    requestSchema: AgentRequest,
    async run(ctx) {
      const rt = runtime();
      if (!rt) throw new Error('no agent runtime: enable the agents plugin to run agent jobs');
      const req = ctx.job.request as { agent: string; message: string; sessionId?: string; continuity?: 'fresh' | 'resume'; feedback?: string };
      const message = req.feedback ? `${req.message}\n\nFeedback on the previous result:\n${req.feedback}` : req.message;
      const parents = Object.keys(ctx.job.parentResults).length
        ? `\n\nResults of the jobs this one depends on:\n${JSON.stringify(ctx.job.parentResults, null, 2)}` : '';
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
      return { text: result.text, sessionId: result.sessionId, turnId: result.turnId, usage: result.usage };
    },
  };
}
