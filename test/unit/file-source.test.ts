import { mkdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { formatSourceError } from '../../src/source.js';
import { FileSource } from '../../sources/files/file-source.js';
import { tmpDir } from '../helpers/tmp-dir.js';

let dir: ReturnType<typeof tmpDir>;
beforeEach(() => {
  dir = tmpDir();
});
afterEach(() => dir.cleanup());

const write = (rel: string, text: string) => {
  mkdirSync(join(dir.path, rel, '..'), { recursive: true });
  writeFileSync(join(dir.path, rel), text);
};
const source = (max?: number) => new FileSource({ dir: dir.path, ctx: DEFAULT_CONTEXT, maxFileBytes: max });

describe('file source', () => {
  it('reads a directory recursively, skipping hidden and temporary files', async () => {
    write('a.json', JSON.stringify({ id: 'a', function: 'x.y', every: 60 }));
    write('sub/deeper/b.yaml', 'id: b\nfunction: x.y\ncron: "0 * * * *"\n');
    write('c.toml', 'id = "c"\nfunction = "x.y"\nevery = "5m"\n');
    write('.hidden.json', '{"id":"hidden"}');
    write('.git/x.json', '{"id":"git"}');
    write('a.json~', '{"id":"backup"}');
    write('b.yaml.swp', 'junk');
    write('notes.txt', 'junk');
    const snap = await source().snapshot();
    expect(snap.errors).toEqual([]);
    expect(snap.schedules.map((s) => [s.spec.id, s.origin])).toEqual([
      ['a', 'a.json'],
      ['c', 'c.toml'],
      ['b', 'sub/deeper/b.yaml'],
    ]);
    expect(snap.stale).toBe(false);
  });

  it('a broken file contributes nothing and is held; the others still count', async () => {
    write('good.json', JSON.stringify({ id: 'good', function: 'x.y', every: 60 }));
    write(
      'bad.toml',
      '[[schedules]]\nid = "x"\nfunction = "x.y"\ncron = "61 * * * *"\n[[schedules]]\nid = "ok"\nfunction = "x.y"\nevery = 5\n',
    );
    const snap = await source().snapshot();
    expect(snap.schedules.map((s) => s.spec.id)).toEqual(['good']);
    expect(snap.heldOrigins).toEqual(['bad.toml']);
    expect(snap.errors.map(formatSourceError)).toEqual([
      'bad.toml: schedules[0] (id "x"): cron: "61 * * * *": minute out of range',
    ]);
  });

  it('a duplicate id inside one file holds the file', async () => {
    write('dup.yaml', '- {id: a, function: x.y, every: 5}\n- {id: a, function: x.y, every: 6}\n');
    const snap = await source().snapshot();
    expect(snap.schedules).toEqual([]);
    expect(snap.heldOrigins).toEqual(['dup.yaml']);
    expect(snap.errors.map(formatSourceError)).toEqual([
      'dup.yaml: [1] (id "a"): duplicate id: already defined at [0]',
    ]);
  });

  it('the same id in two files is an error naming both; the id is held, the rest counts', async () => {
    write(
      'one.json',
      JSON.stringify([
        { id: 'a', function: 'x.y', every: 5 },
        { id: 'b', function: 'x.y', every: 5 },
      ]),
    );
    write('two.json', JSON.stringify({ id: 'a', function: 'x.y', every: 9 }));
    const snap = await source().snapshot();
    expect(snap.schedules.map((s) => s.spec.id)).toEqual(['b']);
    expect(snap.heldIds).toEqual(['a']);
    expect(snap.errors[0]!.message).toBe(
      'id is defined in more than one file: one.json, two.json; it keeps its applied state until only one file defines it',
    );
  });

  it('a missing directory makes the source stale, not empty', async () => {
    const s = new FileSource({ dir: join(dir.path, 'nope'), ctx: DEFAULT_CONTEXT });
    const snap = await s.snapshot();
    expect(snap.stale).toBe(true);
    expect(snap.errors[0]!.message).toMatch(/cannot read the schedules directory/);
  });

  it('refuses a file over the size limit without reading it', async () => {
    write('big.json', `[${'0,'.repeat(3000)}0]`);
    const snap = await source(1024).snapshot();
    expect(snap.heldOrigins).toEqual(['big.json']);
    expect(snap.errors[0]!.message).toMatch(
      /^file is 6003 bytes, over the limit of 1024 \(files\.maxFileBytes\); refused without reading it$/,
    );
  });

  it('re-reads a file when it changes, and forgets deleted files', async () => {
    write('a.json', JSON.stringify({ id: 'a', function: 'x.y', every: 60 }));
    const s = source();
    expect((await s.snapshot()).schedules[0]!.spec.every).toBe(60);
    write('a.json', JSON.stringify({ id: 'a', function: 'x.y', every: 120 }));
    utimesSync(join(dir.path, 'a.json'), new Date(), new Date(Date.now() + 5000));
    expect((await s.snapshot()).schedules[0]!.spec.every).toBe(120);
    truncateSync(join(dir.path, 'a.json'), 10);
    const broken = await s.snapshot();
    expect(broken.heldOrigins).toEqual(['a.json']);
    expect(broken.errors[0]!.message).toMatch(/^invalid JSON/);
    rmSync(join(dir.path, 'a.json'));
    expect(await s.snapshot()).toMatchObject({ schedules: [], errors: [], heldOrigins: [] });
  });

  it('a fresh read re-reads every file: a change hidden from stat is caught, an unchanged file is not parsed again', async () => {
    write('a.json', JSON.stringify({ id: 'a', function: 'x.y', every: 60 }));
    write('b.json', JSON.stringify({ id: 'b', function: 'x.y', every: 60 }));
    const s = source();
    const parsed: string[] = [];
    const parse = s.parse.bind(s);
    s.parse = (rel, bytes) => (parsed.push(rel), parse(rel, bytes));
    expect((await s.snapshot()).schedules.map((d) => d.spec.every)).toEqual([60, 60]);
    expect(parsed.sort()).toEqual(['a.json', 'b.json']); // files are read concurrently: any order
    // Same size, same mtime, same inode: only the bytes tell.
    const when = new Date(Date.now() - 60_000);
    utimesSync(join(dir.path, 'a.json'), when, when);
    await s.snapshot();
    writeFileSync(join(dir.path, 'a.json'), JSON.stringify({ id: 'a', function: 'x.y', every: 90 }));
    utimesSync(join(dir.path, 'a.json'), when, when);
    parsed.length = 0;
    expect((await s.snapshot()).schedules.map((d) => d.spec.every)).toEqual([60, 60]); // the stat cache cannot see it
    expect(parsed).toEqual([]);
    const fresh = await s.snapshot({ fresh: true });
    expect(fresh.schedules.map((d) => [d.spec.id, d.spec.every])).toEqual([
      ['a', 90],
      ['b', 60],
    ]);
    expect(parsed).toEqual(['a.json']);
    // A fresh read after a fresh read still compares bytes, and a file gone is gone.
    rmSync(join(dir.path, 'b.json'));
    expect((await s.snapshot({ fresh: true })).schedules.map((d) => d.spec.id)).toEqual(['a']);
    expect(parsed).toEqual(['a.json']);
  });
});
