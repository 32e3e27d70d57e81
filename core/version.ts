import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT_DIR = join(__dirname, '..');
export const KERNEL_VERSION: string = JSON.parse(readFileSync(join(ROOT_DIR, 'package.json'), 'utf8')).version;
