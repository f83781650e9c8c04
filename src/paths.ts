/**
 * Files that ship beside the compiled code (Lua scripts, the JSON Schema, fixtures) are
 * found from the package root, which is the nearest ancestor with a package.json. This
 * works the same from `dist/src/*.js` (the CLI) and from `src/*.ts` (tests).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('pyrq: cannot find the package root (no package.json above the code)');
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
