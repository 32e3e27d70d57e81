import { PlinthError } from '../../sdk';

/** How deep untrusted JSON may nest, on HTTP bodies and WebSocket frames alike. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22, BACKSLASH = 0x5c, OPEN_BRACE = 0x7b, OPEN_BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d;

/**
 * Whether JSON text nests deeper than `max`, by one pass over the bytes that counts brackets
 * outside strings. It never parses: `[[[[…` 100,000 deep parses fine in V8, and then every
 * recursive walk of the value (JSON.stringify, a validator) overflows the stack.
 */
export function jsonTooDeep(text: Buffer | string, max = MAX_JSON_DEPTH): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) { if (++depth > max) return true; }
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

export function jsonTooDeepError(where: string, max = MAX_JSON_DEPTH): PlinthError {
  return new PlinthError(400, 'PLINTH_ERR_JSON_TOO_DEEP', `${where} nests JSON deeper than ${max} levels`, { maxDepth: max });
}
