/**
 * The directory watcher watches directories, never files (issue 22, file storm): chokidar
 * held an inotify watch (and an FSWatcher object) per file, 20,000 of them for 20,000
 * files, and re-listed the directory with an lstat per entry on its events. Counted here
 * by the kernel: the `inotify wd:` lines of this process's inotify descriptors.
 */
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryWatcher } from '../../sources/files/watch-files.js';
import { eventually } from '../helpers/daemon.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/** inotify watches this process holds now. */
function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (!target.includes('inotify')) continue;
    try {
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

let dir: ReturnType<typeof tmpDir>;
let watcher: DirectoryWatcher;
let reported: string[];
beforeEach(() => {
  dir = tmpDir();
  reported = [];
});
afterEach(async () => {
  await watcher.close();
  dir.cleanup();
});

const write = (rel: string) =>
  writeFileSync(join(dir.path, rel), JSON.stringify({ id: rel, function: 'x.y', every: 60 }));

async function start(): Promise<void> {
  watcher = new DirectoryWatcher({
    dir: dir.path,
    debounceMs: 20,
    maxWaitMs: 50,
    onChange: (origins) => reported.push(...origins),
  });
  await watcher.start();
}

describe('directory watcher', () => {
  it('holds one watch per directory, not one per file', async () => {
    mkdirSync(join(dir.path, 'sub'));
    for (let i = 0; i < 300; i++) write(`f${i}.json`);
    for (let i = 0; i < 100; i++) write(`sub/g${i}.json`);
    const before = inotifyWatches();
    await start();
    // The root and `sub` (chokidar: 400 more, one per file).
    expect(inotifyWatches() - before).toBeLessThanOrEqual(2);
    write('f0.json');
    write('sub/g1.json');
    await eventually(
      async () => reported.includes('f0.json') && reported.includes('sub/g1.json'),
      'both edits reported',
      5000,
    );
  });

  it('watches a directory made while it runs, and reports one that goes', async () => {
    await start();
    mkdirSync(join(dir.path, 'later'));
    await eventually(async () => reported.includes('later'), 'the new directory reported', 5000);
    // The new directory's watch is set up after its event: wait for it before writing.
    await eventually(async () => watcher.watchedDirectories === 2, 'the new directory watched', 5000);
    write('later/x.yaml');
    await eventually(async () => reported.includes('later/x.yaml'), 'a file in it reported', 5000);
    reported.length = 0;
    rmSync(join(dir.path, 'later'), { recursive: true });
    await eventually(async () => reported.includes('later'), 'the removed directory reported', 5000);
    await eventually(async () => watcher.watchedDirectories === 1, 'its watch dropped', 5000);
  });

  it('a storm of events ends with one full listing', async () => {
    await start();
    for (let i = 0; i < 1200; i++) write(`s${i}.json`);
    await eventually(async () => reported.includes('.'), 'a full listing asked for after the storm', 10_000);
  });
});
