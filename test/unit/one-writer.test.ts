import { describe, expect, it } from 'vitest';
import type { Change, Plan } from '../../src/plan/types.js';
import {
  type SourceOwner,
  changesOf,
  ownedSource,
  pruneRefusalText,
  refusalText,
  sourcesReadElsewhere,
} from '../../src/registry/source-owner.js';
import { THIS_WRITER, parseWriteNotice, writeNoticeOf } from '../../src/registry/write-notice.js';

// Issue 26, point 1: the pure parts of one writer per source.
const change = (action: Change['action'], id: string, source = 'files', extra: Partial<Change> = {}): Change => ({
  action,
  id,
  source,
  origin: `${id}.json`,
  fields: [],
  beforeHash: '',
  triggerChanged: false,
  ...extra,
});
const plan = (changes: Change[]): Plan => ({ createdAt: 0, changes, unchanged: 0, held: [], errors: [], sources: [] });
const owner: SourceOwner = {
  holderId: 'app1:42:abc',
  host: 'app1',
  pid: 42,
  sources: [
    ownedSource('files', '/etc/pyrq/a', 'app1', true),
    ownedSource('mysql', 'mysql://pyrq@db:3306/site (btu)', 'app1', false),
  ],
};

describe('which sources a one-shot reads from elsewhere', () => {
  it('another directory on the same host, or the same path on another host, is elsewhere; the same is not', () => {
    expect(sourcesReadElsewhere(owner, [ownedSource('files', '/etc/pyrq/b', 'app1', true)]).map((s) => s.name)).toEqual(
      ['files'],
    );
    expect(sourcesReadElsewhere(owner, [ownedSource('files', '/etc/pyrq/a', 'app2', true)])).toHaveLength(1);
    expect(sourcesReadElsewhere(owner, [ownedSource('files', '/etc/pyrq/a', 'app1', true)])).toEqual([]);
  });

  it('a database is the same from any host; another table or database is elsewhere; a source the daemon lacks is free', () => {
    const same = ownedSource('mysql', 'mysql://pyrq@db:3306/site (btu)', 'laptop', false);
    expect(sourcesReadElsewhere(owner, [same])).toEqual([]);
    expect(
      sourcesReadElsewhere(owner, [ownedSource('mysql', 'mysql://pyrq@db:3306/other (btu)', 'x', false)]),
    ).toHaveLength(1);
    expect(sourcesReadElsewhere(owner, [ownedSource('postgres', 'postgres://x/y (native)', 'x', false)])).toEqual([]);
  });

  it('the changes that touch an owned source include moves away from it', () => {
    const p = plan([
      change('create', 'a'),
      change('update', 'b', 'postgres'),
      change('update', 'c', 'postgres', { fromSource: 'files' }),
    ]);
    expect(changesOf(p, new Set(['files'])).map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('the refusal names the daemon, both places, and at most five changes', () => {
    const mine = [ownedSource('files', '/home/me/b', 'app1', true)];
    const text = refusalText(
      'apply',
      owner,
      sourcesReadElsewhere(owner, mine),
      mine,
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => change('delete', id)),
    );
    expect(text).toBe(
      'source "files" is owned by the pyrq daemon on app1 (pid 42), which reads /etc/pyrq/a; this apply reads /home/me/b\n' +
        "it would delete a, delete b, delete c, delete d, delete e, and 2 more: refused, nothing written. Change the daemon's configuration instead (and reload it: SIGHUP), or pass --force (the daemon then restores its own schedules within a second).",
    );
    expect(pruneRefusalText(owner, owner.sources[0]!, 3)).toContain(
      'source "files" is owned by the pyrq daemon on app1 (pid 42), which reads /etc/pyrq/a: pruning its 3 schedule(s)',
    );
  });
});

describe('write notices', () => {
  it('name the writer, the sources of what was written (moves: both), the first ids and the count', () => {
    const changes = [
      change('create', 'a'),
      change('update', 'b', 'postgres', { fromSource: 'mysql' }),
      change('delete', 'c'),
    ];
    const n = writeNoticeOf(
      changes,
      { created: ['a'], updated: ['b'], deleted: [], noop: [], conflicts: ['c'] },
      'pyrq apply',
    );
    expect(n).toEqual({
      writer: THIS_WRITER,
      by: 'pyrq apply',
      sources: ['files', 'mysql', 'postgres'],
      ids: ['a', 'b'],
      count: 2,
    });
    expect(parseWriteNotice(JSON.stringify(n))).toEqual(n);
  });

  it('every change applied: the same notice, every source and the first ids named', () => {
    const changes = [change('create', 'a'), change('update', 'b', 'postgres', { fromSource: 'mysql' })];
    expect(
      writeNoticeOf(changes, { created: ['a'], updated: ['b'], deleted: [], noop: [], conflicts: [] }, 'pyrq apply'),
    ).toEqual({
      writer: THIS_WRITER,
      by: 'pyrq apply',
      sources: ['files', 'mysql', 'postgres'],
      ids: ['a', 'b'],
      count: 2,
    });
  });

  it('nothing written: no notice; garbage on the channel is ignored', () => {
    expect(
      writeNoticeOf(
        [change('create', 'a')],
        { created: [], updated: [], deleted: [], noop: ['a'], conflicts: [] },
        'x',
      ),
    ).toBeNull();
    expect(parseWriteNotice('changed')).toBeNull();
    expect(parseWriteNotice('{"writer":1,"sources":[]}')).toBeNull();
  });
});
