/**
 * contrib/pyrq.service starts the daemon with NODE_OPTIONS (a smaller young generation
 * for its main thread: docs/daemon.md, "Memory"). Node refuses a flag it does not allow in
 * NODE_OPTIONS and exits before running anything, which would leave the unit failing at
 * every start: so the unit's value must be accepted by this Node, and must do what the
 * comment beside it says (the main isolate's new space stays within 2 × 4 MB while a
 * workload that grows V8's default to 32 MB runs). The bench reads the same line
 * (bench/scenario-startup.ts), so it measures what ships.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unitNodeOptions } from '../../bench/scenario-startup.js';

const UNIT = readFileSync(join(import.meta.dirname, '..', '..', 'contrib', 'pyrq.service'), 'utf8');

/** Keeps every tenth of two million small objects: V8 grows its new space to the largest it allows. */
const GROW_NEW_SPACE = `
const keep = [];
for (let i = 0; i < 2e6; i++) { const o = { i, s: 'x' + i }; if (i % 10 === 0) keep.push(o); }
const s = require('v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
process.stdout.write(String(s.space_size + keep.length * 0));
`;

function newSpaceAfterGrowth(nodeOptions: string | undefined): {
  status: number | null;
  bytes: number;
  stderr: string;
} {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  const r = spawnSync(process.execPath, ['-e', GROW_NEW_SPACE], { env, encoding: 'utf8' });
  return { status: r.status, bytes: Number(r.stdout), stderr: r.stderr };
}

describe('contrib/pyrq.service NODE_OPTIONS', () => {
  const options = unitNodeOptions(UNIT);

  it('is set, and only to flags of the young generation', () => {
    expect(options).toBe('--max-semi-space-size=4');
  });

  it('is accepted by this Node and bounds the main thread new space', () => {
    const withUnit = newSpaceAfterGrowth(options);
    expect(withUnit.stderr).toBe('');
    expect(withUnit.status).toBe(0);
    expect(withUnit.bytes).toBeGreaterThan(0);
    expect(withUnit.bytes).toBeLessThanOrEqual(8 * 2 ** 20);
    // The same workload without it grows the new space beyond that: the check above can fail.
    const bare = newSpaceAfterGrowth(undefined);
    expect(bare.status).toBe(0);
    expect(bare.bytes).toBeGreaterThan(8 * 2 ** 20);
  });
});
