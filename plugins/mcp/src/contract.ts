/**
 * Contract of the `mcp` plugin: an extension point through which other plugins add MCP
 * resources and prompts (tools come from the kernel's tool registry), after Backstage's
 * extension points. Content items are plain MCP JSON (`{ type: 'text', text }`, …) so that this
 * file does not depend on the MCP SDK.
 */
import { createServiceRef, type Disposer, type User } from 'plinth/sdk';

export type McpContent = Record<string, unknown> & { type: string };
export type McpResourceContents = { uri: string; mimeType?: string } & ({ text: string } | { blob: string });

export interface McpResourceDefinition {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  read(uri: string, user: User): Promise<McpResourceContents[]> | McpResourceContents[];
}

export interface McpResourceTemplateDefinition {
  /** RFC 6570 level-1 template, e.g. `test://template/{id}/data`. */
  uriTemplate: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  read(uri: string, variables: Record<string, string>, user: User): Promise<McpResourceContents[]> | McpResourceContents[];
}

export interface McpPromptArgument { name: string; description?: string; required?: boolean }

export interface McpPromptDefinition {
  name: string;
  title?: string;
  description?: string;
  arguments?: McpPromptArgument[];
  get(args: Record<string, string>, user: User): Promise<McpPromptResult> | McpPromptResult;
  /** Values completing a partial argument (`completion/complete`). */
  complete?(argument: string, value: string): Promise<string[]> | string[];
}

export interface McpPromptResult {
  description?: string;
  messages: Array<{ role: 'user' | 'assistant'; content: McpContent }>;
}

export interface McpExtensions {
  registerResource(resource: McpResourceDefinition): Disposer;
  registerResourceTemplate(template: McpResourceTemplateDefinition): Disposer;
  registerPrompt(prompt: McpPromptDefinition): Disposer;
  /**
   * Also list a registry tool under another MCP name (registry names are always
   * `<plugin>.<tool>`; a client or a test suite may expect a bare name such as `test_simple_text`).
   */
  aliasTool(mcpName: string, registryName: string): Disposer;
}

export const mcpExtensionsRef = createServiceRef<McpExtensions>({ id: 'mcp.extensions' });
