import { randomBytes } from 'node:crypto';
import { cp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errors, kernelErrors } from 'plinth/sdk';
import { SKILL_ID, SkillFileError, hashSkillFolder, readSkillFolder } from './skill-file';
import type { SkillLibrary } from './skill-library';
import type { SkillStateStore } from './skill-state';
import { errorCodes } from './errors';

export const CATALOG_INDEX = 'catalog.json';

interface CatalogIndex { skills: Record<string, { sha256: string; version?: string }> }

/**
 * Installable skills: a folder of skill folders plus `catalog.json`, which records each one's
 * sha256 (see hashSkillFolder). Nothing is installed or activated unless what is on disk hashes
 * to the recorded value.
 */
export class SkillCatalog {
  constructor(private readonly options: { catalogDir?: string; dataDir: string; library: SkillLibrary; state: SkillStateStore }) {}

  private dir(): string {
    if (!this.options.catalogDir) throw errors.unavailable('no skill catalog configured: set the skills plugin config "catalogDir"');
    return this.options.catalogDir;
  }

  private async index(): Promise<CatalogIndex> {
    const file = join(this.dir(), CATALOG_INDEX);
    let raw: string;
    try { raw = await readFile(file, 'utf8'); } catch { return { skills: {} }; }
    try {
      const parsed = JSON.parse(raw);
      if (!parsed || typeof parsed.skills !== 'object') throw new Error('"skills" must be an object of id → { sha256 }');
      return parsed;
    } catch (err) {
      throw errorCodes.error('PLINTH_ERR_SKILL_CATALOG', `${file} is invalid: ${(err as Error).message}`, { cause: err });
    }
  }

  async list() {
    const dir = this.dir();
    const index = await this.index();
    const names = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter(d => d.isDirectory() && SKILL_ID.test(d.name)).map(d => d.name).sort();
    const items = [];
    for (const id of names) {
      const folder = join(dir, id);
      const expected = index.skills[id]?.sha256 ?? null;
      let doc: { name?: string; description?: string } = {};
      let problem: string | null = null;
      let actual: string | null = null;
      try {
        doc = await readSkillFolder(folder);
        actual = await hashSkillFolder(folder);
      } catch (err) {
        problem = (err as Error).message;
      }
      const installed = await stat(join(this.options.dataDir, id)).then(() => true, () => false);
      const loaded = this.options.library.find(id);
      items.push({
        id, name: doc.name ?? null, description: doc.description ?? null, version: index.skills[id]?.version ?? null,
        sha256: expected, verified: !!expected && expected === actual, problem,
        installed, active: loaded?.source === 'catalog',
      });
    }
    return { items, nextCursor: null };
  }

  /** Checks the catalog copy of a skill against its recorded sha256; answers the hash. */
  private async verify(id: string, folder: string, pinned?: string): Promise<string> {
    const recorded = (await this.index()).skills[id]?.sha256;
    const expected = pinned ?? recorded;
    if (!expected) throw errors.unprocessable(`catalog skill ${id} has no sha256 in ${CATALOG_INDEX}; refusing to install what cannot be verified`);
    if (pinned && recorded && pinned !== recorded) throw errors.unprocessable(`sha256 given for ${id} differs from the catalog's`, { given: pinned, catalog: recorded });
    let actual: string;
    try {
      await readSkillFolder(folder);
      actual = await hashSkillFolder(folder);
    } catch (err) {
      if (err instanceof SkillFileError) throw kernelErrors.error('PLINTH_ERR_UNPROCESSABLE', `catalog skill ${id} is malformed: ${err.message}`, { cause: err });
      throw err;
    }
    if (actual !== expected) throw errorCodes.error('PLINTH_ERR_SKILL_CHECKSUM', `checksum mismatch for catalog skill ${id}: expected ${expected}, found ${actual}`, { details: { expected, actual } });
    return actual;
  }

  private async source(id: string): Promise<string> {
    const folder = join(this.dir(), id);
    if (!SKILL_ID.test(id) || !(await stat(folder).then(s => s.isDirectory(), () => false))) throw errors.notFound(`catalog skill ${id}`);
    return folder;
  }

  /**
   * Copies a catalog skill into `$PLINTH_DATA_DIR/skills/<id>`. The copy goes to a hidden temp
   * folder beside the target and is hashed there (what is verified is what gets installed), then
   * renamed into place in one step; on any failure the temp folder is removed, so a failed
   * install leaves nothing behind.
   */
  async install(input: { id: string; sha256?: string; overwrite?: boolean }) {
    const folder = await this.source(input.id);
    await this.verify(input.id, folder, input.sha256);
    const target = join(this.options.dataDir, input.id);
    const exists = await stat(target).then(() => true, () => false);
    if (exists && !input.overwrite) throw errors.conflict(`skill ${input.id} is already installed; send overwrite: true to replace it`);
    const suffix = randomBytes(6).toString('hex');
    const temp = join(this.options.dataDir, `.install-${input.id}-${suffix}`);
    const old = join(this.options.dataDir, `.replaced-${input.id}-${suffix}`);
    let hash: string;
    try {
      await cp(folder, temp, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
      hash = await this.verify(input.id, temp, input.sha256);
      if (exists) await rename(target, old);
      try {
        await rename(temp, target);
      } catch (err) {
        if (exists) await rename(old, target).catch(() => undefined);
        throw err;
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
      await rm(old, { recursive: true, force: true });
    }
    await this.options.state.record(input.id, 'data', hash, true);
    await this.options.library.reload();
    return this.options.library.view(this.options.library.require(input.id));
  }

  /** Uses a catalog skill where it is (no copy), after the same checksum check. */
  async activate(input: { id: string; sha256?: string }) {
    const folder = await this.source(input.id);
    const hash = await this.verify(input.id, folder, input.sha256);
    const current = this.options.library.find(input.id);
    if (current && current.source !== 'catalog') throw errors.conflict(`a skill ${input.id} is already loaded from ${current.source} (${current.dir}); it takes precedence over the catalog`);
    await this.options.state.record(input.id, 'catalog', hash, true);
    await this.options.library.reload();
    return this.options.library.view(this.options.library.require(input.id));
  }
}
