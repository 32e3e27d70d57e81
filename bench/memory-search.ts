/**
 * Memory full-text search at scale, on SQLite: generates BENCH_MEMORY_ENTRIES entries (default
 * 1,000,000) through the store's batched insert, then times one- and two-word searches through
 * the memory service beside the very same FTS5 statement run directly with sqlite3 on the same
 * database file in the same process. Prints one JSON line; progress goes to stderr.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { memoryRef } from '../plugins/memory/src/contract';
import { createTestKernel } from '../testing';
import type { MemoryStore, NewEntry } from '../plugins/memory/src/memory-store';
import { generateEntries, rng, vocabulary } from './_memory-data';

const TARGET = Number(process.env.BENCH_MEMORY_ENTRIES ?? 1_000_000);
const INSERT_BUDGET_MS = Number(process.env.BENCH_MEMORY_INSERT_BUDGET_MS ?? 110_000);
const QUERIES = Number(process.env.BENCH_MEMORY_QUERIES ?? 400);
const BATCH = 10_000;
const OWNERS = Array.from({ length: 10 }, (_, i) => `usr_bench_${i}`);

const log = (msg: string) => process.stderr.write(msg + '\n');
const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (x: number) => Math.round(x * 1000) / 1000;

async function main() {
  const k = await createTestKernel({ plugins: [{ path: join(__dirname, '..', 'plugins', 'memory') }] });
  try {
    const store = k.service(memoryRef) as unknown as MemoryStore;
    const vocab = vocabulary(20_000);
    const entries = generateEntries(TARGET, { owners: OWNERS, vocab });

    let inserted = 0;
    let insertMs = 0;
    while (inserted < TARGET && insertMs < INSERT_BUDGET_MS) {
      const batch: NewEntry[] = [];
      for (let i = 0; i < BATCH && inserted + batch.length < TARGET; i++) batch.push(entries.next().value as NewEntry);
      const t0 = process.hrtime.bigint();
      await store.addMany(batch);
      insertMs += ms(t0);
      inserted += batch.length;
      if (inserted % 100_000 === 0) log(`inserted ${inserted} (${Math.round(inserted / (insertMs / 1000))}/s)`);
    }
    const insertPerSec = Math.round(inserted / (insertMs / 1000));
    log(`inserted ${inserted} in ${Math.round(insertMs)} ms`);

    const file = join(k.dataDir, 'plinth.db');
    const direct = await new Promise<sqlite3.Database>((resolve, reject) => {
      const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, err => (err ? reject(err) : resolve(db)));
    });
    const all = (sql: string, params: unknown[]) => new Promise<any[]>((resolve, reject) => direct.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows))));

    // One-word queries: uniform over the vocabulary by rank, so mostly content words and now and
    // then one of the few very common ones. Two-word queries: two words of one stored entry, so
    // that they co-occur (two random words almost never do) — weighted as the text is, common
    // words included.
    const rand = rng(99);
    const word = () => vocab[Math.floor(rand() * vocab.length)];
    const maxSeq = (await all(`SELECT MAX(seq) AS m FROM memory_entries`, []))[0].m as number;
    const pair = async () => {
      const [row] = await all(`SELECT text FROM memory_entries WHERE seq >= ? ORDER BY seq LIMIT 1`, [1 + Math.floor(rand() * maxSeq)]);
      const words = [...new Set(String(row.text).split(' '))];
      const a = words[Math.floor(rand() * words.length)];
      const rest = words.filter(w => w !== a);
      return rest.length ? `${a} ${rest[Math.floor(rand() * rest.length)]}` : a;
    };
    const run = async (words: number) => {
      const service: number[] = [];
      const raw: number[] = [];
      let hits = 0;
      for (let i = -30; i < QUERIES; i++) {
        const q = words === 1 ? word() : await pair();
        const input = { q, owner: OWNERS[Math.abs(i) % OWNERS.length], limit: 10 };
        const stmt = store.searchStatement(input)!;
        // Alternate which goes first so that neither always gets the warmer page cache.
        const order = i % 2 === 0 ? ['service', 'direct'] : ['direct', 'service'];
        for (const which of order) {
          const t0 = process.hrtime.bigint();
          if (which === 'service') hits += (await store.search(input)).length;
          else await all(stmt.sql, stmt.params);
          const took = ms(t0);
          if (i >= 0) (which === 'service' ? service : raw).push(took);
        }
      }
      const m = quantile(service, 0.5), p = quantile(service, 0.99), dm = quantile(raw, 0.5), dp = quantile(raw, 0.99);
      return {
        medianMs: round(m), p99Ms: round(p), directMedianMs: round(dm), directP99Ms: round(dp),
        ratioMedian: round(m / dm), ratioP99: round(p / dp), avgHits: round(hits / (QUERIES + 30)),
        goalMet: m < 5 && p < 20 && m / dm <= 1.5,
      };
    };
    const one = await run(1);
    log(`one word: ${JSON.stringify(one)}`);
    const two = await run(2);
    log(`two words: ${JSON.stringify(two)}`);
    await new Promise<void>(resolve => direct.close(() => resolve()));

    process.stdout.write(JSON.stringify({
      entries: inserted, target: TARGET, vocabulary: vocab.length, insertPerSec, insertGoalMet: insertPerSec >= 20_000,
      dbMiB: Math.round(statSync(file).size / 1048576), queriesPerClass: QUERIES, oneWord: one, twoWords: two,
    }) + '\n');
  } finally {
    await k.stop();
  }
}

main().catch(err => { console.error(err); process.exit(1); });
