import { randomBytes } from 'node:crypto';

/** Base-32 digits in ASCII order, so that ids sort as they were made. */
const ORDERED = '234567abcdefghijklmnopqrstuvwxyz';
let lastMs = 0;
let counter = 0;
let pool = randomBytes(0);
let poolAt = 0;

/**
 * `mem_` and 20 base-32 characters like `newId`, but time-ordered (9 for the millisecond, 3 for
 * a counter within it, 8 random): a batch of entries lands at the right edge of the unique id
 * index instead of at random pages all over it, which kept large inserts reading the disk.
 */
export function orderedMemoryId(now: number): string {
  if (now > lastMs) { lastMs = now; counter = 0; } else if (++counter >= 32 ** 3) { lastMs++; counter = 0; }
  let out = '';
  for (let i = 8, t = lastMs; i >= 0; i--, t = Math.floor(t / 32)) out = ORDERED[t % 32] + out;
  for (let i = 2; i >= 0; i--) out += ORDERED[(counter >> (5 * i)) & 31];
  if (poolAt + 8 > pool.length) { pool = randomBytes(4096); poolAt = 0; }
  for (let i = 0; i < 8; i++) out += ORDERED[pool[poolAt++] & 31];
  return `mem_${out}`;
}
