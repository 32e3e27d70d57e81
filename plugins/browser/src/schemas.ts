import type { JsonSchema } from 'plinth/sdk';

export const ACTIONS = ['navigate', 'click', 'type', 'press', 'select', 'scroll', 'wait_for', 'extract_text', 'screenshot', 'evaluate'] as const;
export type ActionName = typeof ACTIONS[number];

export interface ActionRequest {
  action: ActionName;
  /** The browser to act in; the user's only one when absent. */
  session?: string;
  /** Index of the page (0 = first tab); the one last used when absent. */
  page?: number;
  url?: string;
  selector?: string;
  text?: string;
  key?: string;
  values?: string[];
  x?: number;
  y?: number;
  state?: 'attached' | 'detached' | 'visible' | 'hidden';
  timeout_ms?: number;
  full_page?: boolean;
  expression?: string;
}

/** Fields each action needs besides `action`. */
export const REQUIRED: Record<ActionName, Array<keyof ActionRequest>> = {
  navigate: ['url'], click: ['selector'], type: ['selector', 'text'], press: ['key'], select: ['selector', 'values'],
  scroll: [], wait_for: ['selector'], extract_text: [], screenshot: [], evaluate: ['expression'],
};

const selector = { type: 'string', minLength: 1, maxLength: 2000, description: 'A Playwright selector: CSS, text=…, role=…' };

export const ActionBody: JsonSchema = {
  type: 'object',
  required: ['action'],
  additionalProperties: false,
  properties: {
    action: { enum: [...ACTIONS] },
    session: { type: 'string', maxLength: 60 },
    page: { type: 'integer', minimum: 0, maximum: 50 },
    url: { type: 'string', minLength: 1, maxLength: 8000 },
    selector,
    text: { type: 'string', maxLength: 100_000 },
    key: { type: 'string', minLength: 1, maxLength: 50, description: 'A key name as Playwright names it: Enter, Tab, ArrowDown, Control+A' },
    values: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', maxLength: 1000 } },
    x: { type: 'integer', minimum: -100_000, maximum: 100_000 },
    y: { type: 'integer', minimum: -100_000, maximum: 100_000 },
    state: { enum: ['attached', 'detached', 'visible', 'hidden'] },
    timeout_ms: { type: 'integer', minimum: 1, maximum: 120_000 },
    full_page: { type: 'boolean' },
    expression: { type: 'string', minLength: 1, maxLength: 100_000 },
  },
};

export const SessionBody: JsonSchema = {
  type: 'object', additionalProperties: false,
  properties: { session: { type: 'string', maxLength: 60 } },
};

export const IdParams: JsonSchema = {
  type: 'object', required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 60 } },
};
