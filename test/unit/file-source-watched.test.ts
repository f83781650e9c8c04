/**
 * A watched file source reads only what its watcher reported (issue 14, churn): after the
 * first full read, a snapshot stats and reads just the reported files, and lists the
 * directory again only after a directory event or a fresh (deep) read.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import type { SourceSnapshot } from '../../src/source.js';
import { FileSource } from '../../sources/files/file-source.js';
import { eventually } from '../helpers/daemon.js';
import { tmpDir } from '../helpers/tmp-dir.js';

let dir: ReturnType<typeof tmpDir>;
let src: FileSource;
let reported: string[];
beforeEach(async () => {
  dir = tmpDir();
  for (const id of ['a', 'b', 'c']) write(`${id}.json`, id, 1);
  src = new FileSource({ dir: dir.path, ctx: DEFAULT_CONTEXT });
  reported = [];
  await src.watch((change) => reported.push(...(change.origins ?? [])));
});
afterEach(async () => {
  await src.close();
  dir.cleanup();
});

function write(rel: string, id: string, v: number): void {
  mkdirSync(join(dir.path, rel, '..'), { recursive: true });
  writeFileSync(join(dir.path, rel), JSON.stringify({ id, function: 'x.y', every: 60, kwargs: { v } }));
}
const versions = (s: SourceSnapshot) =>
  Object.fromEntries(s.schedules.map((d) => [d.spec.id, (d.spec.kwargs as { v: number }).v]));
const reportedSoon = (rel: string) =>
  eventually(async () => reported.includes(rel), `the watcher reports ${rel}`, 5000);

describe('watched file source', () => {
  it('re-reads the files the watcher reported, and only those', async () => {
    expect(versions(await src.snapshot())).toEqual({ a: 1, b: 1, c: 1 });
    write('a.json', 'a', 2);
    await reportedSoon('a.json');
    // b changes too, but its event has not arrived when the snapshot begins (the watcher
    // waits 100 ms for quiet): this snapshot does not look at b at all...
    write('b.json', 'b', 2);
    const s = await src.snapshot();
    expect(versions(s)).toEqual({ a: 2, b: 1, c: 1 });
    expect(s.changed).toEqual(['a']);
    // ...the next one, after b's event, does.
    await reportedSoon('b.json');
    const s2 = await src.snapshot();
    expect(versions(s2)).toEqual({ a: 2, b: 2, c: 1 });
    expect(s2.changed).toEqual(['b']);
  });

  it('adds created files and drops deleted ones without listing the directory', async () => {
    await src.snapshot();
    write('d.json', 'd', 1);
    rmSync(join(dir.path, 'b.json'));
    await reportedSoon('d.json');
    await reportedSoon('b.json');
    const s = await src.snapshot();
    expect(versions(s)).toEqual({ a: 1, c: 1, d: 1 });
    expect([...(s.changed ?? [])].sort()).toEqual(['b', 'd']);
  });

  it('a directory event, or a fresh read, lists everything again', async () => {
    await src.snapshot();
    write('sub/e.json', 'e', 1);
    await eventually(async () => reported.some((o) => o.startsWith('sub')), 'the watcher reports sub/', 5000);
    expect(versions(await src.snapshot())).toEqual({ a: 1, b: 1, c: 1, e: 1 });
    // A change nobody reported (its event still pending) is seen by a fresh read.
    write('c.json', 'c', 5);
    expect(versions(await src.snapshot({ fresh: true }))).toMatchObject({ c: 5 });
  });
});
