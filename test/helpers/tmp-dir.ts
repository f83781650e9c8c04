import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory; `cleanup()` removes it. */
export function tmpDir(label = 'pyrq-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), label));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
