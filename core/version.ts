import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package's folder: core/ in a checkout, dist/core/ once compiled for the npm package. */
export const ROOT_DIR = existsSync(join(__dirname, '..', 'package.json')) ? join(__dirname, '..') : join(__dirname, '..', '..');
export const KERNEL_VERSION: string = JSON.parse(readFileSync(join(ROOT_DIR, 'package.json'), 'utf8')).version;
