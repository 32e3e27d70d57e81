import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import type { User } from 'plinth/sdk';
import { skillsRef } from 'plinth/contracts/skills';
import { hashSkillFolder } from '../src/skill-file';

const PLUGIN = join(__dirname, '..');
const SHIPPER = join(__dirname, 'fixtures', 'shipper');
const dialects: Array<'sqlite' | 'postgres'> = ['sqlite'];
if (process.env.PLINTH_TEST_POSTGRES_URL) dialects.push('postgres');

function writeSkill(root: string, id: string, skillMd: string, extra: Record<string, string> = {}): string {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'SKILL.md'), skillMd);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}
const md = (name: string, description: string, body = 'Body.', more = '') => `---\nname: ${name}\ndescription: ${description}\n${more}---\n${body}\n`;

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 30));
  }
}

for (const database of dialects) {
  describe(`skills on ${database}`, () => {
    let k: TestKernel;
    let dataDir: string;
    let catalogDir: string;
    let user: { user: User; token: string };
    const changes: string[][] = [];
    const skillsDir = () => join(dataDir, 'skills');

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'plinth-skills-'));
      catalogDir = mkdtempSync(join(tmpdir(), 'plinth-catalog-'));
      const s = join(dataDir, 'skills');
      writeSkill(s, 'deploy', md('Deploy', 'Ship a release to production', '# Deploy\nRun the pipeline.', 'tools: [runs.exec, jobs.enqueue]\nmetadata:\n  owner: ops\n'), { 'checklist.txt': 'a\nb\n' });
      writeSkill(s, 'shared', md('Shared (data copy)', 'The data dir copy wins'));
      writeSkill(s, 'broken-yaml', '---\nname: [unclosed\ndescription: x\n---\nbody\n');
      writeSkill(s, 'no-front', '# Just markdown\n');
      writeSkill(s, 'no-desc', '---\nname: Nameless\n---\nbody\n');
      writeSkill(s, 'Bad_Name', md('Bad', 'bad folder name'));

      writeSkill(catalogDir, 'good', md('Good', 'A verified catalog skill', 'good body'));
      writeSkill(catalogDir, 'inplace', md('In place', 'Activated where it is', 'inplace body'));
      writeSkill(catalogDir, 'tampered', md('Tampered', 'Changed after it was recorded'));
      writeSkill(catalogDir, 'unlisted', md('Unlisted', 'No checksum recorded'));
      writeSkill(catalogDir, 'malformed', '---\nname: Malformed\n---\n');
      writeFileSync(join(catalogDir, 'catalog.json'), JSON.stringify({ skills: {
        good: { sha256: await hashSkillFolder(join(catalogDir, 'good')), version: '1.0.0' },
        inplace: { sha256: await hashSkillFolder(join(catalogDir, 'inplace')) },
        tampered: { sha256: 'a'.repeat(64) },
        malformed: { sha256: await hashSkillFolder(join(catalogDir, 'malformed')) },
      } }));

      k = await createTestKernel({
        dataDir, database,
        plugins: [{ path: PLUGIN, config: { catalogDir, debounceMs: 50 } }, { path: SHIPPER }],
      });
      k.events.subscribe('skills.changed', e => { changes.push((e.payload as any).ids); });
      user = await k.createUser();
    });
    after(async () => {
      await k?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(catalogDir, { recursive: true, force: true });
    });

    test('skills load from the data dir and from plugins, data first; malformed ones are reported with file and reason', async () => {
      const r = await k.request('GET', '/api/skills', { token: user.token });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.items.map((s: any) => [s.id, s.source]), [['deploy', 'data'], ['pdf-tools', 'plugin'], ['shared', 'data']]);
      const shared = r.body.items.find((s: any) => s.id === 'shared');
      assert.equal(shared.name, 'Shared (data copy)');
      assert.deepEqual(shared.shadows, [join(SHIPPER, 'skills', 'shared')]);
      assert.equal(r.body.items.find((s: any) => s.id === 'pdf-tools').plugin, 'shipper');
      const problems = Object.fromEntries(r.body.problems.map((p: any) => [p.file.slice(skillsDir().length + 1), p.reason]));
      assert.match(problems['broken-yaml/SKILL.md'], /not valid YAML/);
      assert.match(problems['no-front/SKILL.md'], /no YAML front matter/);
      assert.match(problems['no-desc/SKILL.md'], /"description" is required/);
      assert.match(problems['Bad_Name'], /not a skill id/);
      const deploy = await k.request('GET', '/api/skills/deploy', { token: user.token });
      assert.equal(deploy.body.content, '# Deploy\nRun the pipeline.');
      assert.deepEqual(deploy.body.tools, ['runs.exec', 'jobs.enqueue']);
      assert.deepEqual(deploy.body.metadata, { owner: 'ops' });
      assert.deepEqual(deploy.body.files, ['SKILL.md', 'checklist.txt']);
      assert.equal((await k.request('GET', '/api/skills/no-desc', { token: user.token })).status, 404);
      assert.equal((await k.request('GET', '/api/skills/..%2Fetc', { token: user.token })).status, 400);
      assert.equal((await k.request('GET', '/api/skills', { token: null })).status, 401);
    });

    test('toggle hides a skill from agents; skills.load gives the text of enabled skills only', async () => {
      const svc = k.service(skillsRef)!;
      const load = (id: string) => k.request('POST', '/api/plugins/skills/execute/load', { token: user.token, body: { id } });
      const ok = await load('deploy');
      assert.equal(ok.status, 200);
      assert.equal(ok.body.result.content, '# Deploy\nRun the pipeline.');
      assert.equal((await k.request('PUT', '/api/skills/deploy/toggle', { token: user.token, body: {} })).status, 403, 'only admins toggle');
      const off = await k.request('PUT', '/api/skills/deploy/toggle', { body: {} });
      assert.equal(off.body.enabled, false);
      assert.deepEqual((await svc.enabled()).map(s => s.id), ['pdf-tools', 'shared']);
      assert.equal((await load('deploy')).status, 404);
      assert.equal(await svc.load('deploy'), undefined);
      assert.equal((await k.request('PUT', '/api/skills/deploy/toggle', { body: { enabled: true } })).body.enabled, true);
      assert.equal((await svc.load('deploy'))?.summary.name, 'Deploy');
      assert.equal((await k.request('PUT', '/api/skills/nope/toggle', { body: {} })).status, 404);
      assert.equal((await load('../deploy')).status, 400);
    });

    test('the watch picks up new and edited skills by content hash; the audit reports drift until accepted', async () => {
      changes.length = 0;
      const dir = writeSkill(skillsDir(), 'watched', md('Watched', 'Appears without a reload', 'v1'));
      await waitFor(async () => (await k.request('GET', '/api/skills/watched', { token: user.token })).status === 200 || undefined);
      assert.ok(changes.some(ids => ids.includes('watched')));
      let audit = (await k.request('GET', '/api/skills/audit')).body;
      assert.equal(audit.items.find((i: any) => i.id === 'watched').status, 'ok');

      writeFileSync(join(dir, 'SKILL.md'), md('Watched', 'Appears without a reload', 'v2'));
      await waitFor(async () => (await k.request('GET', '/api/skills/watched', { token: user.token })).body.content === 'v2' || undefined);
      audit = (await k.request('GET', '/api/skills/audit')).body;
      const entry = audit.items.find((i: any) => i.id === 'watched');
      assert.equal(entry.status, 'drift');
      assert.notEqual(entry.recordedHash, entry.diskHash);
      assert.ok(audit.drift >= 1);

      // Same bytes written again: the watcher fires, the hash does not change, nothing reloads.
      const before = changes.length;
      writeFileSync(join(dir, 'SKILL.md'), md('Watched', 'Appears without a reload', 'v2'));
      await new Promise(r => setTimeout(r, 400));
      assert.equal(changes.length, before);
      const manual = await k.request('POST', '/api/skills/reload', { body: {} });
      assert.equal(manual.body.changed, false);

      const accepted = await k.request('POST', '/api/skills/reload', { body: { accept: true } });
      assert.equal(accepted.status, 200);
      assert.equal((await k.request('GET', '/api/skills/audit')).body.items.find((i: any) => i.id === 'watched').status, 'ok');
      assert.equal((await k.request('GET', '/api/skills/audit', { token: user.token })).status, 403);

      rmSync(dir, { recursive: true });
      await waitFor(async () => (await k.request('GET', '/api/skills/watched', { token: user.token })).status === 404 || undefined);
      assert.equal((await k.request('GET', '/api/skills/audit')).body.items.find((i: any) => i.id === 'watched').status, 'missing');
    });

    test('catalog installs only verified skills, atomically, and leaves nothing behind on failure', async () => {
      const cat = await k.request('GET', '/api/skills/catalog', { token: user.token });
      const byId = Object.fromEntries(cat.body.items.map((i: any) => [i.id, i]));
      assert.equal(byId.good.verified, true);
      assert.equal(byId.good.version, '1.0.0');
      assert.equal(byId.tampered.verified, false);
      assert.equal(byId.unlisted.sha256, null);
      assert.match(byId.malformed.problem, /"description" is required/);
      assert.equal((await k.request('GET', '/api/skills', { token: user.token })).body.items.some((s: any) => s.id === 'good'), false, 'the catalog is not loaded until installed or activated');

      const install = (body: unknown, token?: string) => k.request('POST', '/api/skills/catalog/install', { body, token });
      const leftovers = () => readdirSync(skillsDir()).filter(n => n.startsWith('.') || ['tampered', 'unlisted', 'malformed'].includes(n));
      const tampered = await install({ id: 'tampered' });
      assert.equal(tampered.status, 422);
      assert.equal(tampered.body.error.code, 'PLINTH_ERR_SKILL_CHECKSUM');
      assert.equal((await install({ id: 'unlisted' })).status, 422);
      assert.match((await install({ id: 'malformed' })).body.error.message, /malformed/);
      assert.equal((await install({ id: 'good', sha256: 'b'.repeat(64) })).status, 422, 'a pinned hash must agree');
      assert.equal((await install({ id: 'missing' })).status, 404);
      assert.equal((await install({ id: '../x' })).status, 400);
      assert.equal((await install({ id: 'good' }, user.token)).status, 403);
      assert.deepEqual(leftovers(), []);

      const ok = await install({ id: 'good' });
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.body.source, 'data');
      assert.ok(existsSync(join(skillsDir(), 'good', 'SKILL.md')));
      assert.equal((await install({ id: 'good' })).status, 409);
      assert.equal((await install({ id: 'good', overwrite: true })).status, 201);
      assert.deepEqual(leftovers(), []);
      assert.equal((await k.request('GET', '/api/skills/audit')).body.items.find((i: any) => i.id === 'good').status, 'ok');

      const act = await k.request('POST', '/api/skills/catalog/activate', { body: { id: 'inplace' } });
      assert.equal(act.status, 200, act.text);
      assert.equal(act.body.source, 'catalog');
      assert.equal(act.body.path, join(catalogDir, 'inplace'));
      assert.equal((await k.request('POST', '/api/skills/catalog/activate', { body: { id: 'tampered' } })).status, 422);
      assert.equal((await k.request('POST', '/api/skills/catalog/activate', { body: { id: 'good' } })).status, 409, 'the installed copy takes precedence');

      assert.deepEqual((await k.request('DELETE', '/api/skills/inplace')).body, { deleted: 'inplace', source: 'catalog' });
      assert.ok(existsSync(join(catalogDir, 'inplace', 'SKILL.md')), 'deactivating keeps the catalog copy');
      assert.equal((await k.request('DELETE', '/api/skills/good')).status, 200);
      assert.equal(existsSync(join(skillsDir(), 'good')), false);
      assert.equal((await k.request('DELETE', '/api/skills/pdf-tools')).status, 409, "a plugin's skill is disabled, not deleted");
      assert.equal((await k.request('DELETE', '/api/skills/deploy', { token: user.token })).status, 403);
    });

    test('a plugin that is disabled takes its skills with it', async () => {
      assert.equal((await k.request('PUT', '/api/plugins/shipper/toggle', { body: { enabled: false } })).status, 200);
      const ids = await waitFor(async () => {
        const items = (await k.request('GET', '/api/skills', { token: user.token })).body.items.map((s: any) => s.id);
        return items.includes('pdf-tools') ? undefined : items;
      });
      assert.ok(ids.includes('shared'), 'the data copy stays');
      assert.equal((await k.request('PUT', '/api/plugins/shipper/toggle', { body: { enabled: true } })).status, 200);
      await waitFor(async () => (await k.request('GET', '/api/skills/pdf-tools', { token: user.token })).status === 200 || undefined);
    });
  });
}
