import { resolve } from 'node:path';
import { WriteBehind, definePlugin } from 'plinth/sdk';
import { agentInstancesRef, agentRuntimeRef, modelProvidersRef, modelRouterRef, turnRecordsRef } from './contract';
import { memoryRef } from 'plinth/contracts/memory';
import { skillsRef } from 'plinth/contracts/skills';
import { AgentLoop } from './agent-loop';
import { AgentStore } from './agent-store';
import { AttachmentStore } from './attachment-store';
import { FrameLog } from './frame-log';
import { InstanceStore } from './instance-store';
import { Instances } from './instances';
import { KeyVault } from './key-vault';
import { ModelSettingsStore } from './model-settings';
import { migrations } from './migrations';
import { ProviderRouter } from './provider-router';
import { AnthropicProvider } from './providers/anthropic';
import { BuiltinProvider } from './providers/builtin';
import { OpenAiProvider } from './providers/openai';
import { recordedRouter } from './recorded-router';
import { registerRoutes } from './routes';
import { SessionStore } from './session-store';
import { SessionNicknames } from './session-nicknames';
import { SessionOrder } from './session-order';
import { SubagentStore } from './subagent-store';
import { Subagents } from './subagents';
import { TurnStore, type FinishedTurn } from './turn-store';
import { TurnLog } from './turn-log';
import { turnRecords } from './turn-records';
import { resolveSettings, type AgentsConfig } from './provider-settings';

export default definePlugin<{ memory: ReturnType<typeof memoryRef.asOptional>; skills: ReturnType<typeof skillsRef.asOptional> }, AgentsConfig>({
  deps: { memory: memoryRef.asOptional(), skills: skillsRef.asOptional() },
  provides: [agentInstancesRef, agentRuntimeRef, modelProvidersRef, modelRouterRef, turnRecordsRef],
  async setup({ http, ws, tools, events, storage, config, secrets, dataDir, clock, timers, log, memory, skills, onDispose, provide }) {
    const now = () => clock.now();
    const db = await storage.open({ migrations });
    const vault = new KeyVault(db, dataDir, now);
    await vault.load();
    const modelSettings = new ModelSettingsStore(db, now);
    await modelSettings.load();
    const settings = resolveSettings(config, secrets, vault, modelSettings);

    const router = new ProviderRouter(config.breaker, clock);
    onDispose(router.register(new BuiltinProvider()));
    onDispose(router.register(new OpenAiProvider('openai', settings.openai)));
    onDispose(router.register(new AnthropicProvider(settings.anthropic)));

    const agents = new AgentStore(db, now);
    await agents.seedDefault();
    const order = new SessionOrder(db, now, timers);
    if (db.dialect === 'sqlite') await order.releaseAll();
    const sessions = new SessionStore(db, now, order);
    const turns = new TurnStore(db, now);
    // A SQLite file has one kernel: a turn still `running` at start died with the previous process.
    // On PostgreSQL other kernels may be mid-turn, so only turns older than any request could run count.
    const interrupted = await turns.markInterrupted(db.dialect === 'sqlite' ? 0 : config.requestTimeoutMs * 2);
    if (interrupted) log.warn('turns left running by a previous run were marked interrupted', { count: interrupted });
    // Proxied calls' turns, written finished and in batches behind the answer (see recordedRouter); 20 columns × 49 rows stay under SQLite's 999 variables.
    const turnWriter = new WriteBehind<FinishedTurn>(rows => turns.insertFinished(rows), err => log.error('proxied turns were not stored', { error: String(err) }), { batch: 49, delayMs: 20, timers });
    onDispose(() => turnWriter.flush());
    const frames = new FrameLog(db, now, err => log.error('an SSE frame was not stored', { error: String(err) }));
    onDispose(() => frames.flushAll());
    const attachments = new AttachmentStore(db, dataDir, config.attachments, now);
    const subagentStore = new SubagentStore(db, agents, now);
    const subagents = new Subagents(subagentStore, agents, () => runtime, events, { maxDepth: config.subagents.maxDepth, maxCostUsd: config.subagents.maxCostUsd ?? null });
    const runtime: AgentLoop = new AgentLoop(
      { agents, sessions, order, turns, frames, router, tools, events, log, memory, skills, subagents, attachmentsForModel: (ids, user) => attachments.forModel(ids, user) },
      { defaultModel: settings.defaultModel, price: settings.price, toolTimeoutMs: config.toolTimeoutMs, memoryHits: config.memoryHits, now },
    );

    const instanceStore = new InstanceStore(db, now);
    const instances = new Instances(instanceStore, agents, sessions, runtime, events, timers, log, config.instances);
    await instances.restore(db.dialect === 'sqlite');
    onDispose(() => instances.dispose());

    const models = recordedRouter(router, turnWriter, settings.price, now);
    registerRoutes(http, ws, {
      agents, runtime, router, vault, tools, keyedProviders: ['openai', 'anthropic'], providerInfo: settings.providerInfo, modelSettings,
      sessions, frames, attachments, turns, turnLog: new TurnLog(db, now, () => turnWriter.flush()), workspaceDir: resolve(dataDir, config.workspaceDir), log, nicknames: new SessionNicknames(sessions, models, settings.defaultModel), subagentStore, subagents, instances, instanceStore,
    });

    provide(agentRuntimeRef, runtime);
    provide(agentInstancesRef, instances);
    provide(modelProvidersRef, router);
    provide(turnRecordsRef, turnRecords(db, { turns, sessions, router, price: settings.price, defaultModel: settings.defaultModel }));
    provide(modelRouterRef, models);
  },
});
