import { randomBytes } from 'node:crypto';

/** The one id format: a short type prefix and 20 random base32 characters, sortable by nothing. */
export function newId(prefix: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(20);
  let out = '';
  for (const b of bytes) out += alphabet[b & 31];
  return `${prefix}_${out}`;
}
