import type { SqlRunner } from 'plinth/sdk';

/** Provider settings an admin stored through `PUT /api/settings/models`; absent fields fall back to config, then the environment. */
export interface ProviderOverrides { baseUrl?: string; model?: string; models?: string[] }
export interface StoredModelSettings { defaultModel?: string; providers: Record<string, ProviderOverrides> }

/** A change: a value sets, `null` removes the stored value (config or environment apply again), absent leaves it. */
export interface ModelSettingsChange {
  defaultModel?: string | null;
  providers?: Record<string, { baseUrl?: string | null; model?: string | null; models?: string[] | null }>;
}

/**
 * The models settings document as stored: one JSON row, read once at start and kept in memory, so
 * resolving a provider's settings on every call costs nothing (keys live in the KeyVault).
 */
export class ModelSettingsStore {
  private readonly t: string;
  private doc: StoredModelSettings = { providers: {} };

  constructor(private readonly db: SqlRunner, private readonly now: () => number) {
    this.t = db.table('model_settings');
  }

  async load(): Promise<void> {
    const [row] = await this.db.query(`SELECT value FROM ${this.t} WHERE name = 'models'`);
    this.doc = row ? JSON.parse(row.value) : { providers: {} };
  }

  get current(): StoredModelSettings { return this.doc; }

  provider(name: string): ProviderOverrides { return this.doc.providers[name] ?? {}; }

  async apply(change: ModelSettingsChange): Promise<void> {
    const next: StoredModelSettings = structuredClone(this.doc);
    if (change.defaultModel === null) delete next.defaultModel;
    else if (change.defaultModel !== undefined) next.defaultModel = change.defaultModel;
    for (const [name, fields] of Object.entries(change.providers ?? {})) {
      const p: Record<string, unknown> = { ...next.providers[name] };
      for (const [key, value] of Object.entries(fields)) { if (value === null) delete p[key]; else if (value !== undefined) p[key] = value; }
      if (Object.keys(p).length) next.providers[name] = p as ProviderOverrides; else delete next.providers[name];
    }
    const at = new Date(this.now()).toISOString();
    await this.db.query(`DELETE FROM ${this.t} WHERE name = 'models'`);
    await this.db.query(`INSERT INTO ${this.t} (name, value, updated_at) VALUES ('models', ?, ?)`, [JSON.stringify(next), at]);
    this.doc = next;
  }
}
