import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Meta computes X-Hub-Signature-256 over the payload with non-ASCII characters escaped as
 * `\uXXXX` (lowercase hex, UTF-16 units, as PHP's json_encode writes them), while the body it
 * sends may carry them as raw UTF-8. So the raw bytes and the escaped form both count.
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
export function escapeUnicode(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, ch => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function signatureMatches(header: string | undefined, rawBody: Buffer, appSecret: string): boolean {
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header?.trim() ?? '');
  // Compare something of the right length even for a malformed header, so timing says nothing.
  const given = Buffer.from(m ? m[1].toLowerCase() : '0'.repeat(64), 'hex');
  const candidates = [rawBody];
  const text = rawBody.toString('utf8');
  const escaped = escapeUnicode(text);
  if (escaped !== text) candidates.push(Buffer.from(escaped, 'utf8'));
  let ok = false;
  for (const body of candidates) {
    const expected = createHmac('sha256', appSecret).update(body).digest();
    ok = timingSafeEqual(expected, given) || ok;
  }
  return ok && !!m;
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256').update(given ?? '').digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}
