import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import type { Schedule } from '../../src/model/schedule-schema.js';
import { specHash } from '../../src/model/spec-hash.js';
import { attachObserved, diff } from '../../src/plan/diff.js';
import type { ObservedEntry, Plan } from '../../src/plan/types.js';
import type { DesiredSchedule, SourceSnapshot } from '../../src/source.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');

function spec(id: string, fields: Record<string, unknown> = {}): Schedule {
  const r = normalizeSchedule({ id, function: 'app.tasks.run', cron: '0 * * * *', ...fields }, DEFAULT_CONTEXT);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}

const want = (s: Schedule, origin = 'a.toml'): DesiredSchedule => ({ spec: s, hash: specHash(s), origin });

function snap(source: string, schedules: DesiredSchedule[], extra: Partial<SourceSnapshot> = {}): SourceSnapshot {
  return { source, schedules, errors: [], stale: false, heldOrigins: [], heldIds: [], ...extra };
}

function observed(entries: [Schedule, string, string][]): Map<string, ObservedEntry> {
  return new Map(entries.map(([s, source, origin]) => [s.id, { hash: specHash(s), source, origin, spec: s }]));
}

const actions = (p: Plan) => p.changes.map((c) => `${c.action} ${c.id}`);

describe('diff', () => {
  it('creates what is desired and absent', () => {
    const p = diff([snap('files', [want(spec('a')), want(spec('b'))])], new Map(), NOW);
    expect(actions(p)).toEqual(['create a', 'create b']);
    expect(p.changes[0]).toMatchObject({
      beforeHash: '',
      afterHash: specHash(spec('a')),
      source: 'files',
      origin: 'a.toml',
      triggerChanged: true,
    });
    expect(p.unchanged).toBe(0);
  });

  it('counts identical entries as unchanged, by hash', () => {
    const a = spec('a');
    const p = diff([snap('files', [want(a)])], observed([[a, 'files', 'a.toml']]), NOW);
    expect(p.changes).toEqual([]);
    expect(p.unchanged).toBe(1);
  });

  it('updates with field-level changes; a trigger change is flagged, other changes are not', () => {
    const old = spec('a', { kwargs: { days: 1 } });
    const kw = spec('a', { kwargs: { days: 7 } });
    const p1 = diff([snap('files', [want(kw)])], observed([[old, 'files', 'a.toml']]), NOW);
    expect(actions(p1)).toEqual(['update a']);
    expect(p1.changes[0]!.fields).toEqual([{ field: 'kwargs', before: { days: 1 }, after: { days: 7 } }]);
    expect(p1.changes[0]!.triggerChanged).toBe(false);
    expect(p1.changes[0]!.beforeHash).toBe(specHash(old));

    const cron = spec('a', { kwargs: { days: 1 }, cron: '30 * * * *' });
    const p2 = diff([snap('files', [want(cron)])], observed([[old, 'files', 'a.toml']]), NOW);
    expect(p2.changes[0]!.fields).toEqual([{ field: 'cron', before: '0 * * * *', after: '30 * * * *' }]);
    expect(p2.changes[0]!.triggerChanged).toBe(true);

    for (const f of [
      { timezone: 'Europe/Berlin' },
      { enabled: false },
      { startAt: '2027-01-01T00:00:00Z' },
      { endAt: '2027-01-01T00:00:00Z' },
    ]) {
      const p = diff(
        [snap('files', [want(spec('a', { kwargs: { days: 1 }, ...f }))])],
        observed([[old, 'files', 'a.toml']]),
        NOW,
      );
      expect(p.changes[0]!.triggerChanged).toBe(true);
    }
  });

  it('without the old spec, an update is assumed to touch the trigger; attachObserved fills it in', () => {
    const old = spec('a');
    const obs = new Map([['a', { hash: specHash(old), source: 'files', origin: 'a.toml' }]]);
    const p = diff([snap('files', [want(spec('a', { queue: 'q2' }))])], obs, NOW);
    expect(p.changes[0]!.triggerChanged).toBe(true);
    const filled = attachObserved(p, new Map([['a', old]]));
    expect(filled.changes[0]!.fields).toEqual([{ field: 'queue', before: 'default', after: 'q2' }]);
    expect(filled.changes[0]!.triggerChanged).toBe(false);
  });

  it('deletes what its own healthy source no longer produces', () => {
    const a = spec('a');
    const p = diff([snap('files', [])], observed([[a, 'files', 'a.toml']]), NOW);
    expect(actions(p)).toEqual(['delete a']);
    expect(p.changes[0]).toMatchObject({ beforeHash: specHash(a), source: 'files', origin: 'a.toml' });
  });

  it('never deletes from a stale source', () => {
    const a = spec('a');
    const p = diff([snap('mysql', [], { stale: true })], observed([[a, 'mysql', 'tabBTU Task Schedule']]), NOW);
    expect(p.changes).toEqual([]);
    expect(p.held).toEqual(['a']);
    expect(p.sources[0]).toMatchObject({ source: 'mysql', stale: true, held: 1 });
  });

  it('never deletes what a broken file or a failing id applied', () => {
    const a = spec('a');
    const b = spec('b');
    const p = diff(
      [snap('files', [], { heldOrigins: ['a.toml'], heldIds: ['b'] })],
      observed([
        [a, 'files', 'a.toml'],
        [b, 'files', 'b.toml'],
      ]),
      NOW,
    );
    expect(p.changes).toEqual([]);
    expect(p.held).toEqual(['a', 'b']);
  });

  it('leaves alone entries owned by sources that are not part of this run', () => {
    const a = spec('a');
    const p = diff([snap('files', [])], observed([[a, 'socket', 'client']]), NOW);
    expect(p.changes).toEqual([]);
    expect(p.held).toEqual([]);
  });

  it('refuses an id owned by another source that still claims or cannot release it', () => {
    const a = spec('a');
    const a2 = spec('a', { queue: 'other' });
    const p = diff([snap('files', [want(a2)])], observed([[a, 'socket', 'client']]), NOW);
    expect(p.changes).toEqual([]);
    expect(p.errors[0]!.message).toMatch(/owned by source "socket".*not part of this run/);
    const stale = diff(
      [snap('files', [want(a2)]), snap('mysql', [], { stale: true })],
      observed([[a, 'mysql', 't']]),
      NOW,
    );
    expect(stale.changes).toEqual([]);
    expect(stale.errors[0]!.message).toMatch(/stale/);
  });

  it('moves an id between sources when the old owner is healthy and let it go', () => {
    const a = spec('a');
    const p = diff([snap('files', [want(a, 'x.toml')]), snap('mysql', [])], observed([[a, 'mysql', 't']]), NOW);
    expect(actions(p)).toEqual(['update a']);
    expect(p.changes[0]!.fields).toEqual([
      { field: 'source', before: 'mysql', after: 'files' },
      { field: 'origin', before: 't', after: 'x.toml' },
    ]);
    expect(p.changes[0]!.triggerChanged).toBe(false);
  });

  it('an id moved to another file is an update of its origin, keeping its next fire time', () => {
    const a = spec('a');
    const p = diff([snap('files', [want(a, 'new.toml')])], observed([[a, 'files', 'old.toml']]), NOW);
    expect(actions(p)).toEqual(['update a']);
    expect(p.changes[0]!.fields).toEqual([{ field: 'origin', before: 'old.toml', after: 'new.toml' }]);
    expect(p.changes[0]!.triggerChanged).toBe(false);
  });

  it('an id claimed by two sources is an error and keeps its applied state', () => {
    const a = spec('a');
    const p = diff(
      [snap('files', [want(spec('a', { queue: 'x' }))]), snap('mysql', [want(spec('a', { queue: 'y' }), 't')])],
      observed([[a, 'files', 'a.toml']]),
      NOW,
    );
    expect(p.changes).toEqual([]);
    expect(p.held).toEqual(['a']);
    expect(p.errors[0]!.message).toMatch(/also defined by source "files"/);
  });

  it('refuses to create a one-shot in the past, but keeps one already applied', () => {
    const past = spec('once', { cron: undefined, at: '2026-05-01T00:00:00Z' });
    const p = diff([snap('files', [want(past)])], new Map(), NOW);
    expect(p.changes).toEqual([]);
    expect(p.errors[0]).toMatchObject({ id: 'once', path: 'at' });
    expect(p.errors[0]!.message).toMatch(/in the past/);
    const kept = diff([snap('files', [want(past)])], observed([[past, 'files', 'a.toml']]), NOW);
    expect(kept.changes).toEqual([]);
    expect(kept.errors).toEqual([]);
    expect(kept.unchanged).toBe(1);
    const future = spec('once', { cron: undefined, at: '2027-01-01T00:00:00Z' });
    const reaimed = diff([snap('files', [want(past)])], observed([[future, 'files', 'a.toml']]), NOW);
    expect(reaimed.changes).toEqual([]);
    expect(reaimed.held).toEqual(['once']);
  });

  it('carries source errors into the plan', () => {
    const p = diff(
      [
        snap('files', [], {
          errors: [{ source: 'files', origin: 'x.toml', message: 'invalid TOML' }],
          heldOrigins: ['x.toml'],
        }),
      ],
      new Map(),
      NOW,
    );
    expect(p.errors).toEqual([{ source: 'files', origin: 'x.toml', message: 'invalid TOML' }]);
  });

  it('rewrites drifted entries even when their hash matches', () => {
    const a = spec('a');
    const obs = new Map([
      ['a', { hash: specHash(a), source: 'files', origin: 'a.toml', spec: a, drift: 'next fire time missing' }],
    ]);
    const p = diff([snap('files', [want(a)])], obs, NOW);
    expect(p.changes[0]).toMatchObject({
      action: 'update',
      repair: true,
      triggerChanged: true,
      reason: 'repair: next fire time missing',
    });
  });

  it('is sorted by id and deterministic', () => {
    const d = [
      snap(
        'files',
        ['c', 'a', 'b'].map((id) => want(spec(id))),
      ),
    ];
    expect(actions(diff(d, new Map(), NOW))).toEqual(['create a', 'create b', 'create c']);
    expect(diff(d, new Map(), NOW)).toEqual(diff(d, new Map(), NOW));
  });
});
