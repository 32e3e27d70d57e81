import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { ROOT_DIR } from './version';

/**
 * Compiled JSON Schema validators kept on disk as modules (Ajv's standalone code), named by the
 * hash of the schema's text and the Ajv version. Compiling every plugin's manifest and config
 * schema again at each start (and loading Ajv to do it) was a tenth of the cold start. It sits
 * beside scripts/ts-hook.js's TypeScript cache and is best effort: a read-only install compiles.
 */
export class SchemaCodeCache {
  private readonly dir = join(ROOT_DIR, 'node_modules', '.cache', 'plinth-ajv');
  private readonly version = `1 ajv ${(require('ajv/package.json') as { version: string }).version}`;

  private file(key: string): string {
    return join(this.dir, createHash('sha1').update(this.version).update(key).digest('hex') + '.js');
  }

  /** The validator compiled earlier for `key`, if any. */
  load(key: string): ValidateFunction | undefined {
    try {
      return require(this.file(key)) as ValidateFunction;
    } catch {
      return undefined;
    }
  }

  /** Writes a validator `ajv` compiled (with `code.source`) for the next start. */
  store(key: string, ajv: Ajv, fn: ValidateFunction): void {
    try {
      const { default: standaloneCode } = require('ajv/dist/standalone') as typeof import('ajv/dist/standalone');
      const code = standaloneCode(ajv, fn);
      mkdirSync(this.dir, { recursive: true });
      const file = this.file(key);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
    } catch { /* best effort: the validator in hand serves this process */ }
  }
}
