/** `npm run docs:settings`: writes the configuration reference into docs/configuration.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';
import { SETTINGS_DOC, settingsReference, withReference } from './settings-doc.js';

const path = join(PACKAGE_ROOT, SETTINGS_DOC);
writeFileSync(path, withReference(readFileSync(path, 'utf8'), settingsReference()));
console.log(`${path}: configuration reference written`);
