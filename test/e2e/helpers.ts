import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const plugin = (id: string, config?: Record<string, unknown>) => ({ path: join(ROOT, 'plugins', id), ...(config ? { config } : {}) });
export const dialects = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] as const : ['sqlite'] as const;

/** A data dir with skills in `skills/<id>/SKILL.md`, made before the kernel starts so skills loads them at setup. */
export function dataDirWithSkills(skills: Record<string, { name: string; description: string; body: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-e2e-'));
  for (const [id, s] of Object.entries(skills)) {
    mkdirSync(join(dir, 'skills', id), { recursive: true });
    writeFileSync(join(dir, 'skills', id, 'SKILL.md'), `---\nname: ${s.name}\ndescription: ${s.description}\n---\n${s.body}\n`);
  }
  return dir;
}

export { waitFor } from 'plinth/testing';
