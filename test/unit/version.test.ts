import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { version } from '../../src/version.js';

describe('version', () => {
  it('is the version in the repository root package.json', () => {
    const root = join(import.meta.dirname, '..', '..', 'package.json');
    expect(version).toBe((JSON.parse(readFileSync(root, 'utf8')) as { version: string }).version);
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
