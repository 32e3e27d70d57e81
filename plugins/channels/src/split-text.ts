/**
 * Splits a reply into parts of at most `max` UTF-16 units (what Telegram's 4,096-character limit
 * counts), preferring a paragraph, line or word break in the last fifth of a part, and never
 * cutting a surrogate pair in two.
 */
export function splitText(text: string, max: number | undefined): string[] {
  if (!max || text.length <= max) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = -1;
    const window = rest.slice(0, max);
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(sep);
      if (at >= max * 0.8) { cut = at + sep.length; break; }
    }
    if (cut <= 0) {
      cut = max;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--;
    }
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length) parts.push(rest);
  return parts;
}
