/**
 * Every daemon a test starts gets a state directory under the test's temporary files,
 * never the user's ~/.local/state/pyrq: a state file left there by one test (pushes and
 * pauses of a private Redis on a port that is later reused) must never be restored into
 * another test's Redis. startDaemon() gives each daemon a directory of its own; this
 * covers the tests that spawn `pyrq daemon` themselves (they pass process.env on).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'pyrq-state-'));
process.env.PYRQ_STATE_DIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
