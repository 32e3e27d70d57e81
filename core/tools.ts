import type { ValidateFunction } from 'ajv';
import {
  PlinthError, toolPolicyRef, errors, withSpan,
  type ToolPolicyService, type Disposer, type ToolCallContext, type ToolDefinition, type ToolInfo, type ToolRegistry,
} from '../sdk';
import { KernelToolPolicy } from './tool-policy';
import { describeErrors, lazyValidator } from './validation';

export interface ToolEntry { info: ToolInfo; def: ToolDefinition; validate: ValidateFunction }

/** One plugin generation's tools; it becomes the live set when the generation commits. */
export class ToolSet {
  readonly entries = new Map<string, ToolEntry>();
  onChange: (() => void) | undefined;

  constructor(readonly pluginId: string) {}

  register(def: ToolDefinition): Disposer {
    if (!def || typeof def.run !== 'function' || !def.name || !def.inputSchema) {
      throw new PlinthError(500, 'PLINTH_ERR_TOOL', `tool of ${this.pluginId} needs name, description, inputSchema, risk and run`);
    }
    if (!['safe', 'gated', 'blocked'].includes(def.risk)) {
      throw new PlinthError(500, 'PLINTH_ERR_TOOL', `tool ${def.name} of ${this.pluginId} has risk "${def.risk}"; use safe, gated or blocked`);
    }
    const name = def.name.startsWith(this.pluginId + '.') ? def.name : `${this.pluginId}.${def.name}`;
    if (this.entries.has(name)) throw new PlinthError(500, 'PLINTH_ERR_TOOL', `tool ${name} is registered twice`);
    const entry: ToolEntry = {
      info: { name, plugin: this.pluginId, description: def.description, inputSchema: def.inputSchema, outputSchema: def.outputSchema, risk: def.risk },
      def,
      validate: lazyValidator(def.inputSchema),
    };
    this.entries.set(name, entry);
    this.onChange?.();
    return () => {
      if (this.entries.get(name) === entry) {
        this.entries.delete(name);
        this.onChange?.();
      }
    };
  }
}

/**
 * The one tool registry behind the agent loop, MCP and `/api/plugins/:id/execute/:tool`.
 * Input is validated before a tool runs; `gated` tools need the tool policy (`core.toolPolicy`) and are
 * refused when it is absent (fail closed); `blocked` tools never run.
 */
export class KernelToolRegistry {
  private readonly sets = new Map<string, ToolSet>();
  private index = new Map<string, ToolEntry>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly lookupService: (id: string) => unknown) {}

  install(pluginId: string, set: ToolSet | undefined): void {
    if (set) {
      this.sets.set(pluginId, set);
      set.onChange = () => this.changed();
    } else {
      const old = this.sets.get(pluginId);
      if (old) old.onChange = undefined;
      this.sets.delete(pluginId);
    }
    this.changed();
  }

  private changed(): void {
    const index = new Map<string, ToolEntry>();
    for (const set of this.sets.values()) for (const [name, e] of set.entries) index.set(name, e);
    this.index = index;
    for (const l of this.listeners) { try { l(); } catch { /* a listener's failure is its own */ } }
  }

  list(): ToolInfo[] {
    return [...this.index.values()].map(e => e.info).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): ToolInfo | undefined {
    return this.index.get(name)?.info;
  }

  countFor(pluginId: string): number {
    return this.sets.get(pluginId)?.entries.size ?? 0;
  }

  onChange(listener: () => void): Disposer {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async execute(name: string, input: unknown, ctx: ToolCallContext): Promise<unknown> {
    const entry = this.index.get(name);
    if (!entry) throw errors.notFound(`tool ${name}`);
    if (!entry.validate(input)) {
      const { message, details } = describeErrors('input', entry.validate.errors);
      throw new PlinthError(400, 'PLINTH_ERR_TOOL_INPUT', `invalid input for tool ${name}: ${message}`, details);
    }
    const gate = this.lookupService(toolPolicyRef.id) as ToolPolicyService | undefined;
    const risk = gate?.riskFor?.(name, entry.info.risk, ctx.user) ?? entry.info.risk;
    if (risk === 'blocked') throw new PlinthError(403, 'PLINTH_ERR_TOOL_BLOCKED', `tool ${name} is blocked by policy`);
    if (risk === 'gated') {
      if (!gate || (gate instanceof KernelToolPolicy && !gate.active)) throw new PlinthError(403, 'PLINTH_ERR_TOOL_GATED', `tool ${name} needs an approval and no tool policy (core.toolPolicy) is active, so it is refused`);
      const decision = await gate.request({ tool: name, input, ctx, risk });
      if (!decision.approved) {
        throw new PlinthError(403, 'PLINTH_ERR_TOOL_DENIED', `tool ${name} was not approved${decision.reason ? `: ${decision.reason}` : ''}`, { requestId: decision.requestId });
      }
    }
    return withSpan(`tool ${name}`, { 'plinth.tool': name, 'plinth.plugin': entry.info.plugin }, () => Promise.resolve(entry.def.run(input, ctx)));
  }
}

/** The view of the registry a plugin generation gets: its own registrations plus the shared read side. */
export function pluginToolRegistry(set: ToolSet, shared: KernelToolRegistry): ToolRegistry {
  return {
    register: def => set.register(def),
    list: () => shared.list(),
    get: name => shared.get(name),
    execute: (name, input, ctx) => shared.execute(name, input, ctx),
    onChange: listener => shared.onChange(listener),
  };
}
