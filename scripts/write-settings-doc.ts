/** `npm run docs:settings`: writes the configuration reference into README.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { settingsReference, withReference } from './settings-doc.js';

const path = join(PACKAGE_ROOT, 'README.md');
writeFileSync(path, withReference(readFileSync(path, 'utf8'), settingsReference()));
console.log(`${path}: configuration reference written`);
