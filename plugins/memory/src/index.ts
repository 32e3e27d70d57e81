import { definePlugin } from 'plinth/sdk';
import { memoryRef } from './contract';
import { recordEpisodes } from './episodic-recorder';
import { MemoryStore } from './memory-store';
import { migrations } from './migrations';
import { registerRoutes } from './routes';
import { registerTools } from './tools';

interface Config { sqliteCacheMiB: number; maxWorking: number; relevantLimit: number; episodicTopics: string[]; maxEpisodicChars: number }

export default definePlugin<{}, Config>({
  provides: [memoryRef],
  async setup({ http, tools, storage, events, config, clock, log, onDispose, provide }) {
    const db = await storage.open({ migrations });
    // SQLite's default page cache is 2 MiB; the FTS5 segments and the entry indexes of a large
    // memory outgrow it at once, and inserts then read pages back from disk (bench/memory-search.ts).
    if (db.dialect === 'sqlite') await db.query(`PRAGMA cache_size = -${config.sqliteCacheMiB * 1024}`);
    const store = new MemoryStore(db, { maxWorking: config.maxWorking, relevantLimit: config.relevantLimit, clock });
    onDispose(recordEpisodes(events, store, { topics: config.episodicTopics, maxChars: config.maxEpisodicChars, log }));
    registerRoutes(http, store);
    registerTools(tools, store);

    provide(memoryRef, store);
  },
});
