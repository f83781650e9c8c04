/**
 * The trigger table: what every kind must satisfy, checked for every row, so a new kind
 * is held to the same contract by adding its examples below. The behaviour of each kind
 * (cron DST rules, every anchors, catch-up) is tested in next-fire, catchup and model.
 */
import { describe, expect, it } from 'vitest';
import { canonicalStringify } from '../../src/canonical-json.js';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import { scheduleInputSchema, scheduleSchema, type Schedule } from '../../src/model/schedule-schema.js';
import { nextFireAfter, occurrencesBetween } from '../../src/schedule/next-fire.js';
import {
  countOccurrences,
  describeTrigger,
  isOneShot,
  pastOneShot,
  pickTriggerSpec,
  specTextMayBeOneShot,
  TRIGGER_CHOICES,
  TRIGGER_FIELD_NAMES,
  TRIGGER_FIELDS,
  TRIGGERS,
  triggerKindOf,
} from '../../src/schedule/triggers/index.js';

function sched(fields: Record<string, unknown>): Schedule {
  const r = normalizeSchedule({ id: 's', function: 'a.b', ...fields }, DEFAULT_CONTEXT);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.schedule;
}

/** Examples per kind (as written), with how each describes itself. A new kind adds its row. */
const EXAMPLES: Record<string, { input: Record<string, unknown>; describe: string }[]> = {
  cron: [
    { input: { cron: '0  3 * * *', timezone: 'Europe/Berlin' }, describe: 'cron "0 3 * * *" (Europe/Berlin)' },
    {
      input: { cron: '*/7 * * * * *', startAt: '2026-05-01T10:00:03Z', endAt: '2026-05-01T10:05:00Z' },
      describe: 'cron "*/7 * * * * *" (UTC)',
    },
    { input: { cron: '30 2 * * *', timezone: 'America/New_York' }, describe: 'cron "30 2 * * *" (America/New_York)' },
  ],
  every: [
    { input: { every: '1h30m' }, describe: 'every 1h30m' },
    { input: { every: 7, startAt: '2026-05-01T10:00:03Z', endAt: '2026-05-01T10:05:00Z' }, describe: 'every 7s' },
  ],
  at: [{ input: { at: '2026-05-01 12:00', timezone: 'Asia/Kolkata' }, describe: 'at 2026-05-01T06:30:00Z' }],
};

const FROM = Date.parse('2026-04-30T00:00:00Z');

describe('the trigger table', () => {
  it('has one kind per field, each a field of both schedule schemas, documented, in the documented order', () => {
    expect(new Set(TRIGGER_FIELD_NAMES).size).toBe(TRIGGERS.length);
    const inputFields = Object.keys(scheduleInputSchema.shape);
    for (const f of TRIGGER_FIELD_NAMES) {
      expect(inputFields, f).toContain(f);
      expect(Object.keys(scheduleSchema.shape), f).toContain(f);
      expect(scheduleInputSchema.shape[f].meta()?.description, f).toBeTruthy();
      expect(TRIGGER_FIELDS).toContain(f);
    }
    // The order of the fields in the schema (and so in the JSON Schema and in messages).
    expect(inputFields.filter((f) => (TRIGGER_FIELD_NAMES as readonly string[]).includes(f))).toEqual([
      ...TRIGGER_FIELD_NAMES,
    ]);
    expect(TRIGGER_CHOICES).toMatch(
      new RegExp(`^${TRIGGER_FIELD_NAMES.slice(0, -1).join(', ')} or ${TRIGGER_FIELD_NAMES.at(-1)}$`),
    );
  });

  it('every kind has examples here', () => {
    for (const f of TRIGGER_FIELD_NAMES)
      expect(EXAMPLES[f]?.length, `add examples for the "${f}" trigger to this test`).toBeGreaterThan(0);
  });

  for (const kind of TRIGGERS) {
    describe(`${kind.field}`, () => {
      for (const ex of EXAMPLES[kind.field] ?? []) {
        const s = sched(ex.input);
        it(`${JSON.stringify(ex.input)}: is found by its field and describes itself`, () => {
          expect(triggerKindOf(s)).toBe(kind);
          expect(describeTrigger(s)).toBe(ex.describe);
        });

        it(`${JSON.stringify(ex.input)}: between() lists exactly what nextFireAfter() steps through`, () => {
          // Up to 40 steps over the next days, in windows of several sizes and offsets.
          const stepped: number[] = [];
          for (let t = nextFireAfter(s, FROM); t !== null && stepped.length < 40; t = nextFireAfter(s, t))
            stepped.push(t);
          expect(stepped.length).toBeGreaterThan(0);
          const last = stepped.at(-1)!;
          for (const [lo, hi] of [
            [FROM, last],
            [FROM + 1500, last - 1],
            [stepped[0]!, last],
            [stepped[0]! - 1, stepped[0]!],
          ] as const) {
            const want = stepped.filter((t) => t > Math.floor(lo / 1000) * 1000 && t <= hi);
            expect(occurrencesBetween(s, lo, hi, 1000), `(${lo}, ${hi}]`).toEqual(want);
            // With a limit, the newest `limit` of them.
            expect(occurrencesBetween(s, lo, hi, 3)).toEqual(want.slice(-3));
          }
          // A count, when the kind gives one, is the number of occurrences in [from, until).
          if (stepped.length > 5) {
            const n = countOccurrences(s, stepped[1]!, stepped[5]!);
            if (n !== undefined) expect(n).toBe(4);
          }
        });

        it(`${JSON.stringify(ex.input)}: pickTriggerSpec keeps what decides when it fires, and nothing else`, () => {
          const picked = pickTriggerSpec(s);
          expect(Object.keys(picked).every((k) => TRIGGER_FIELDS.includes(k))).toBe(true);
          expect(triggerKindOf(picked)).toBe(kind);
          expect(describeTrigger(picked)).toBe(ex.describe);
          for (const t of [FROM, FROM + 86_400_000, Date.parse('2026-05-01T10:02:00Z')])
            expect(nextFireAfter(picked, t)).toBe(nextFireAfter(s, t));
          expect(occurrencesBetween(picked, FROM, FROM + 3 * 86_400_000, 50)).toEqual(
            occurrencesBetween(s, FROM, FROM + 3 * 86_400_000, 50),
          );
        });

        it(`${JSON.stringify(ex.input)}: a one-shot fires once; its stored text says it may be one`, () => {
          const text = canonicalStringify(s);
          expect(specTextMayBeOneShot(text)).toBe(kind.once !== undefined);
          expect(isOneShot(s)).toBe(kind.once !== undefined);
          if (kind.once === undefined) {
            expect(pastOneShot(s, Date.parse('2100-01-01T00:00:00Z'))).toBeUndefined();
            return;
          }
          const instant = kind.once(s);
          expect(nextFireAfter(s, instant - 1000)).toBe(instant);
          expect(nextFireAfter(s, instant)).toBeNull();
          expect(pastOneShot(s, instant - 1)).toBeUndefined();
          expect(pastOneShot(s, instant)).toEqual({
            field: kind.field,
            value: (s as Record<string, unknown>)[kind.field],
          });
        });
      }
    });
  }

  it('a spec without a trigger has no kind and no occurrences', () => {
    const bare = { timezone: 'UTC', enabled: true } as never;
    expect(triggerKindOf(bare)).toBeUndefined();
    expect(describeTrigger(bare)).toBe('no trigger');
    expect(nextFireAfter(bare, FROM)).toBeNull();
    expect(occurrencesBetween(bare, FROM, FROM + 86_400_000, 10)).toEqual([]);
  });

  it('the one-shot text test errs only towards parsing (a key inside kwargs)', () => {
    expect(specTextMayBeOneShot(canonicalStringify(sched({ cron: '0 3 * * *', kwargs: { at: 'noon' } })))).toBe(true);
    expect(specTextMayBeOneShot(canonicalStringify(sched({ every: '1h', description: 'at noon' })))).toBe(false);
  });
});
