/**
 * pyrq's version, from package.json: one place, so `ping` and `status` over the socket
 * and the CLI's `--version` can never disagree. Read from the package root (not
 * imported as JSON: the compiler would copy package.json into dist/, where it would be
 * taken for the package root).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './paths.js';

export const version: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
