import type { Disposer } from 'plinth/sdk';
import type { McpExtensions, McpPromptDefinition, McpResourceDefinition, McpResourceTemplateDefinition } from './contract';

/**
 * What other plugins added to the MCP surface through `mcpExtensionsRef`. Every registration
 * returns a disposer, so a reloaded contributor's old resources and prompts disappear with it.
 */
export class McpExtensionRegistry implements McpExtensions {
  readonly resources = new Map<string, McpResourceDefinition>();
  readonly templates = new Map<string, McpResourceTemplateDefinition>();
  readonly prompts = new Map<string, McpPromptDefinition>();
  /** MCP name → registry name. */
  readonly aliases = new Map<string, string>();
  private readonly listeners = new Set<(kind: 'resources' | 'prompts' | 'tools') => void>();

  registerResource(resource: McpResourceDefinition): Disposer {
    return this.add(this.resources, resource.uri, resource, 'resources');
  }

  registerResourceTemplate(template: McpResourceTemplateDefinition): Disposer {
    return this.add(this.templates, template.uriTemplate, template, 'resources');
  }

  registerPrompt(prompt: McpPromptDefinition): Disposer {
    return this.add(this.prompts, prompt.name, prompt, 'prompts');
  }

  aliasTool(mcpName: string, registryName: string): Disposer {
    return this.add(this.aliases, mcpName, registryName, 'tools');
  }

  onChange(listener: (kind: 'resources' | 'prompts' | 'tools') => void): Disposer {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private add<T>(map: Map<string, T>, key: string, value: T, kind: 'resources' | 'prompts' | 'tools'): Disposer {
    if (map.has(key)) throw new Error(`MCP ${kind} "${key}" is registered twice`);
    map.set(key, value);
    this.emit(kind);
    return () => {
      if (map.get(key) === value) {
        map.delete(key);
        this.emit(kind);
      }
    };
  }

  private emit(kind: 'resources' | 'prompts' | 'tools'): void {
    for (const l of this.listeners) { try { l(kind); } catch { /* a listener's failure is its own */ } }
  }
}

/** Matches a URI against an RFC 6570 level-1 template (`{name}` = one path-free segment). */
export function matchUriTemplate(template: string, uri: string): Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template.split(/(\{[^}]+\})/).map(part => {
    const m = /^\{([^}]+)\}$/.exec(part);
    if (m) { names.push(m[1]); return '([^/?#]+)'; }
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('');
  const match = new RegExp(`^${pattern}$`).exec(uri);
  if (!match) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
}
