import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export const SKILL_FILE = 'SKILL.md';
export const SKILL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_SKILL_BYTES = 256 * 1024;

export interface SkillDocument {
  name: string;
  description: string;
  tools?: string[];
  metadata?: Record<string, unknown>;
  /** The Markdown after the front matter: what `skills.load` hands an agent. */
  body: string;
}

/** Why a SKILL.md was skipped; the loader reports it beside the skills that did load. */
export class SkillFileError extends Error {}

/** `---` YAML front matter `---`, then Markdown. Throws a SkillFileError that says what is wrong. */
export function parseSkillMarkdown(text: string): SkillDocument {
  const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n([\s\S]*))?$/.exec(text);
  if (!m) throw new SkillFileError('no YAML front matter: the file must start with a line "---", the YAML, then a line "---"');
  let meta: unknown;
  try {
    // yaml only when a skill file is read, not with the plugin (~30 ms of cold start).
    meta = (require('yaml') as typeof import('yaml')).parse(m[1]);
  } catch (err) {
    throw new SkillFileError(`front matter is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw new SkillFileError('front matter must be a YAML mapping (name: …, description: …)');
  const fm = meta as Record<string, unknown>;
  const str = (field: string, max: number) => {
    const v = fm[field];
    if (typeof v !== 'string' || !v.trim()) throw new SkillFileError(`front matter field "${field}" is required and must be a non-empty string`);
    if (v.length > max) throw new SkillFileError(`front matter field "${field}" is longer than ${max} characters`);
    return v.trim();
  };
  const doc: SkillDocument = { name: str('name', 100), description: str('description', 1024), body: (m[2] ?? '').trim() };
  if (fm.tools !== undefined) {
    if (!Array.isArray(fm.tools) || !fm.tools.every(t => typeof t === 'string' && t)) throw new SkillFileError('front matter field "tools" must be a list of tool names');
    doc.tools = fm.tools as string[];
  }
  if (fm.metadata !== undefined) {
    if (!fm.metadata || typeof fm.metadata !== 'object' || Array.isArray(fm.metadata)) throw new SkillFileError('front matter field "metadata" must be a mapping');
    doc.metadata = fm.metadata as Record<string, unknown>;
  }
  return doc;
}

export async function readSkillFolder(dir: string): Promise<SkillDocument> {
  const file = join(dir, SKILL_FILE);
  let size: number;
  try { size = (await lstat(file)).size; } catch { throw new SkillFileError(`no ${SKILL_FILE}`); }
  if (size > MAX_SKILL_BYTES) throw new SkillFileError(`${SKILL_FILE} is larger than ${MAX_SKILL_BYTES} bytes`);
  return parseSkillMarkdown(await readFile(file, 'utf8'));
}

/** Every regular file under a skill folder, relative, `/`-separated and sorted. Symlinks are refused. */
export async function skillFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isSymbolicLink()) throw new SkillFileError(`${relative(dir, p)} is a symbolic link; skills must be plain files`);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile()) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * The sha256 of a skill folder: over each file's relative path and the sha256 of its bytes, in
 * path order. Renaming, adding or editing any file changes it; where the folder lives does not.
 * Catalog entries record it, and the audit compares it.
 */
export async function hashSkillFolder(dir: string): Promise<string> {
  const outer = createHash('sha256');
  for (const rel of await skillFiles(dir)) {
    const inner = createHash('sha256').update(await readFile(join(dir, rel))).digest('hex');
    outer.update(`${rel}\0${inner}\n`);
  }
  return outer.digest('hex');
}
