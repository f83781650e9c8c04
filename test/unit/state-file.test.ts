import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultStateDir } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { parseSavedState, readStateFile, stateFilePath, writeStateFile } from '../../src/state/state-file.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 26, point 3: the daemon's state file and its directory.
let dir: ReturnType<typeof tmpDir>;
beforeEach(() => (dir = tmpDir()));
afterEach(() => dir.cleanup());

const state = {
  format: 1 as const,
  savedAt: 5,
  redis: 'redis://r:6379',
  prefix: 'pyrq:',
  socket: { a: '{"id":"a"}' },
  paused: { a: '{"since":1}' },
};

describe('state file', () => {
  it('one file per Redis and prefix', () => {
    const a = stateFilePath('/s', 'redis://r:6379', 'pyrq:');
    expect(a).toMatch(/^\/s\/state-[0-9a-f]{12}\.json$/);
    expect(stateFilePath('/s', 'redis://r:6379', 'other:')).not.toBe(a);
    expect(stateFilePath('/s', 'redis://q:6379', 'pyrq:')).not.toBe(a);
  });

  it('is written atomically (no temporary file left), owner-only, in a directory it creates, and read back', () => {
    const file = stateFilePath(join(dir.path, 'new', 'dir'), 'redis://r', 'pyrq:');
    writeStateFile(file, state);
    expect(readStateFile(file)).toEqual(state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir.path, 'new', 'dir'))).toEqual([file.split('/').pop()]);
    writeStateFile(file, { ...state, savedAt: 6 });
    expect(JSON.parse(readFileSync(file, 'utf8')).savedAt).toBe(6);
  });

  it('no file: undefined; an unreadable one: the reason', () => {
    expect(readStateFile(join(dir.path, 'none.json'))).toBeUndefined();
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, '{"format":1,');
    expect(readStateFile(bad)).toMatch(/^not JSON/);
    expect(parseSavedState('{"format":2}')).toBe('unknown format 2 (this pyrq writes 1)');
    expect(parseSavedState('{"format":1,"savedAt":1,"socket":{"a":1},"paused":{}}')).toBe(
      'fields missing or of the wrong type',
    );
  });
});

describe('state directory', () => {
  it("systemd's, else /var/lib/pyrq as root, else the user's XDG state home", () => {
    expect(defaultStateDir({ STATE_DIRECTORY: '/var/lib/pyrq:/var/lib/other' }, 1000)).toBe('/var/lib/pyrq');
    expect(defaultStateDir({}, 0)).toBe('/var/lib/pyrq');
    expect(defaultStateDir({ XDG_STATE_HOME: '/x' }, 1000)).toBe('/x/pyrq');
    expect(defaultStateDir({ HOME: '/home/u' }, 1000)).toBe('/home/u/.local/state/pyrq');
  });

  it('flag > PYRQ_STATE_DIR > default', () => {
    expect(loadConfig({ stateDir: '/flag' }, { PYRQ_STATE_DIR: '/env' }).daemon.stateDir).toBe('/flag');
    expect(loadConfig({}, { PYRQ_STATE_DIR: '/env' }).daemon.stateDir).toBe('/env');
    expect(loadConfig({}, { HOME: '/h' }).daemon.stateDir).toMatch(/\/pyrq$/);
  });
});
