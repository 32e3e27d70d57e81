import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { errors, type Disposer, type Logger, type Timers } from 'plinth/sdk';
import type { SkillSummary, SkillsService } from './contract';
import { SKILL_FILE, SKILL_ID, SkillFileError, hashSkillFolder, readSkillFolder, skillFiles, type SkillDocument } from './skill-file';
import type { SkillStateStore } from './skill-state';

export type SourceKind = 'data' | 'plugin' | 'catalog';
export interface SkillSource { kind: SourceKind; dir: string; plugin?: string }

export interface Skill extends SkillDocument {
  id: string;
  source: SourceKind;
  plugin?: string;
  dir: string;
  hash: string;
  enabled: boolean;
  /** Folders with the same id in lower-precedence sources, not loaded. */
  shadows: string[];
}

export interface SkillProblem { file: string; reason: string }

export interface AuditEntry {
  id: string;
  source: string;
  recordedHash: string | null;
  diskHash: string | null;
  status: 'ok' | 'drift' | 'missing';
}

/**
 * The skills agents may use, from three sources in precedence order: `$PLINTH_DATA_DIR/skills`,
 * folders that plugins register, then catalog skills that were activated. The first folder with
 * an id wins. A malformed SKILL.md is reported (file and reason) and skipped; the rest load.
 */
export class SkillLibrary implements SkillsService {
  private skills = new Map<string, Skill>();
  private problems: SkillProblem[] = [];
  private fingerprint = '';
  private pluginSources: SkillSource[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private cancelDebounce: Disposer | undefined;
  private watcherReady: Promise<void> = Promise.resolve();

  constructor(private readonly options: {
    dataDir: string;
    catalogDir?: string;
    state: SkillStateStore;
    log: Logger;
    timers: Timers;
    onChange?: (ids: string[]) => void;
  }) {}

  sources(): SkillSource[] {
    const out: SkillSource[] = [{ kind: 'data', dir: this.options.dataDir }, ...this.pluginSources];
    if (this.options.catalogDir) out.push({ kind: 'catalog', dir: this.options.catalogDir });
    return out;
  }

  /** An extension point: a plugin that ships skills registers its folder (one skill per subfolder). */
  registerSource(source: { plugin: string; dir: string }): Disposer {
    const entry: SkillSource = { kind: 'plugin', dir: source.dir, plugin: source.plugin };
    this.pluginSources.push(entry);
    this.watcher?.add(entry.dir);
    void this.reload().catch(err => this.options.log.warn('skills reload failed', { error: (err as Error).message }));
    return () => {
      this.pluginSources = this.pluginSources.filter(s => s !== entry);
      this.watcher?.unwatch(entry.dir);
      void this.reload().catch(() => undefined);
    };
  }

  /**
   * Re-reads every source. Answers whether anything changed: the comparison is by content hash,
   * so a touched file or an editor's save-without-change reloads nothing. With `accept`, the
   * current hashes become the recorded ones (the audit then shows no drift).
   */
  reload(options: { accept?: boolean } = {}): Promise<{ changed: boolean; skills: number; problems: SkillProblem[] }> {
    const run = this.queue.then(() => this.scan(options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async scan(options: { accept?: boolean }): Promise<{ changed: boolean; skills: number; problems: SkillProblem[] }> {
    const state = await this.options.state.all();
    const found = new Map<string, Skill>();
    const problems: SkillProblem[] = [];
    for (const source of this.sources()) {
      let names: string[];
      try {
        names = (await readdir(source.dir, { withFileTypes: true })).filter(d => d.isDirectory() && !d.name.startsWith('.')).map(d => d.name).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        const dir = join(source.dir, name);
        if (source.kind === 'catalog' && state.get(name)?.source !== 'catalog') continue;
        if (!SKILL_ID.test(name)) { problems.push({ file: dir, reason: `folder name "${name}" is not a skill id (lowercase letters, digits, ".", "_", "-")` }); continue; }
        const earlier = found.get(name);
        if (earlier) { earlier.shadows.push(dir); continue; }
        try {
          const doc = await readSkillFolder(dir);
          const hash = await hashSkillFolder(dir);
          found.set(name, { ...doc, id: name, source: source.kind, plugin: source.plugin, dir, hash, enabled: true, shadows: [] });
        } catch (err) {
          if (!(err instanceof SkillFileError)) throw err;
          problems.push({ file: join(dir, SKILL_FILE), reason: err.message });
        }
      }
    }
    for (const skill of found.values()) {
      if (options.accept) await this.options.state.record(skill.id, skill.source, skill.hash, state.get(skill.id)?.enabled ?? true);
      else if (!state.has(skill.id)) await this.options.state.recordIfNew(skill.id, skill.source, skill.hash, true);
    }
    const fresh = await this.options.state.all();
    for (const skill of found.values()) skill.enabled = fresh.get(skill.id)?.enabled ?? true;
    for (const p of problems) this.options.log.warn('skill skipped', { file: p.file, reason: p.reason });

    const fingerprint = JSON.stringify([[...found.values()].map(s => [s.id, s.hash, s.dir, s.enabled]), problems]);
    const changedIds = [...new Set([...found.keys(), ...this.skills.keys()])]
      .filter(id => found.get(id)?.hash !== this.skills.get(id)?.hash || found.get(id)?.enabled !== this.skills.get(id)?.enabled);
    const changed = fingerprint !== this.fingerprint;
    this.skills = found;
    this.problems = problems;
    this.fingerprint = fingerprint;
    if (changed) this.options.onChange?.(changedIds);
    return { changed, skills: found.size, problems };
  }

  /** Watches every source with chokidar; bursts of events collapse into one content-hashed reload. */
  watch(debounceMs: number): Disposer {
    const dirs = this.sources().map(s => s.dir);
    this.watcher = watch(dirs, { ignoreInitial: true, depth: 4 });
    const w = this.watcher;
    this.watcherReady = new Promise(resolve => w.once('ready', () => resolve()));
    this.watcher.on('all', () => {
      this.cancelDebounce?.();
      this.cancelDebounce = this.options.timers.setTimeout(() => {
        void this.reload().catch(err => this.options.log.warn('skills reload failed', { error: (err as Error).message }));
      }, debounceMs);
    });
    this.watcher.on('error', err => this.options.log.warn('skills watcher error', { error: (err as Error).message }));
    return async () => {
      this.cancelDebounce?.();
      const w = this.watcher;
      this.watcher = undefined;
      await w?.close();
    };
  }

  /** Resolves once chokidar has read the folders, so that changes after it are seen. */
  ready(): Promise<void> {
    return this.watcherReady;
  }

  /** Readers wait for a reload in progress (a source just registered, a watch event), never see half of one. */
  private settled(): Promise<unknown> { return this.queue; }

  async list(): Promise<{ items: ReturnType<SkillLibrary['view']>[]; problems: SkillProblem[] }> {
    await this.settled();
    return { items: [...this.skills.values()].sort((a, b) => a.id.localeCompare(b.id)).map(s => this.view(s)), problems: this.problems };
  }

  view(s: Skill) {
    return {
      id: s.id, name: s.name, description: s.description, enabled: s.enabled, tools: s.tools ?? [], metadata: s.metadata ?? {},
      source: s.source, plugin: s.plugin ?? null, path: s.dir, hash: s.hash, shadows: s.shadows,
    };
  }

  find(id: string): Skill | undefined { return this.skills.get(id); }

  require(id: string): Skill {
    const skill = this.skills.get(id);
    if (!skill) throw errors.notFound(`skill ${id}`);
    return skill;
  }

  async detail(id: string) {
    await this.settled();
    const skill = this.require(id);
    return { ...this.view(skill), content: skill.body, files: await skillFiles(skill.dir) };
  }

  async toggle(id: string, enabled?: boolean) {
    await this.settled();
    const skill = this.require(id);
    await this.options.state.setEnabled(id, enabled ?? !skill.enabled);
    await this.reload();
    return this.view(this.require(id));
  }

  /**
   * Data-dir skills are deleted from disk; an activated catalog skill is deactivated (the catalog
   * keeps its copy); a plugin's skill belongs to the plugin, so it can only be disabled.
   */
  async remove(id: string): Promise<{ deleted: string; source: SourceKind }> {
    await this.settled();
    const skill = this.require(id);
    if (skill.source === 'plugin') throw errors.conflict(`skill ${id} is shipped by plugin ${skill.plugin}; disable it instead (PUT /api/skills/${id}/toggle)`);
    if (skill.source === 'data') await rm(skill.dir, { recursive: true, force: true });
    await this.options.state.remove(id);
    await this.reload();
    return { deleted: id, source: skill.source };
  }

  async audit(): Promise<{ items: AuditEntry[]; drift: number }> {
    await this.settled();
    const state = await this.options.state.all();
    const items: AuditEntry[] = [];
    for (const [id, row] of [...state].sort(([a], [b]) => a.localeCompare(b))) {
      const skill = this.skills.get(id);
      let diskHash: string | null = null;
      if (skill) diskHash = await hashSkillFolder(skill.dir).catch(() => null);
      const status = diskHash === null ? 'missing' : diskHash === row.recorded_hash ? 'ok' : 'drift';
      items.push({ id, source: skill?.source ?? row.source, recordedHash: row.recorded_hash, diskHash, status });
    }
    return { items, drift: items.filter(i => i.status !== 'ok').length };
  }

  // ---- the service agents use (skillsRef)

  async enabled(): Promise<SkillSummary[]> {
    await this.settled();
    return [...this.skills.values()].filter(s => s.enabled).sort((a, b) => a.id.localeCompare(b.id))
      .map(s => ({ id: s.id, name: s.name, description: s.description, enabled: true, ...(s.tools ? { tools: s.tools } : {}) }));
  }

  async load(id: string): Promise<{ summary: SkillSummary; content: string } | undefined> {
    await this.settled();
    const s = this.skills.get(id);
    if (!s || !s.enabled) return undefined;
    // Read from disk so that an agent gets what is there now, even between watch events.
    const content = await readSkillFolder(s.dir).then(d => d.body, () => s.body);
    return { summary: { id: s.id, name: s.name, description: s.description, enabled: true, ...(s.tools ? { tools: s.tools } : {}) }, content };
  }
}
