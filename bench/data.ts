/**
 * Realistic schedule data for the benchmark. Real registries repeat themselves: a few
 * hundred distinct cron expressions (daily at some hour, hourly at some minute, every n
 * minutes, weekdays at 9), a handful of timezones, a few hundred task functions, a few
 * queues, small kwargs. The generator is deterministic (seeded), so every run and every
 * machine applies the same 100,000 schedules.
 *
 * Every occurrence of this mix lies on a whole minute (cron seconds are 0, every-periods
 * are whole minutes anchored at the epoch), so the seconds between minutes are quiet:
 * that is where the steady-state scenario measures idle CPU.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../scripts/rng.js';

/** Timezones and their share (UTC first, as in most deployments). */
const TIMEZONES: [string, number][] = [
  ['UTC', 40],
  ['Europe/Berlin', 15],
  ['America/New_York', 12],
  ['Europe/London', 8],
  ['America/Los_Angeles', 8],
  ['Asia/Kolkata', 6],
  ['Asia/Tokyo', 6],
  ['Australia/Sydney', 5],
];

const QUEUES = ['default', 'default', 'default', 'short', 'long', 'billing', 'reports'];
/** Every RQ queue the generated schedules use (Frappe-target ones too: no bench id is set). */
export const QUEUE_NAMES = [...new Set(QUEUES)];
const EVERY = ['1m', '2m', '5m', '5m', '10m', '15m', '15m', '30m', '1h', '1h', '2h', '6h', '12h', '1d'];

/** About 300 distinct expressions, shaped like the ones people write. */
export function cronPool(): string[] {
  const out = new Set<string>();
  for (let h = 0; h < 24; h++) for (const m of [0, 15, 30, 45]) out.add(`${m} ${h} * * *`); // daily: 96
  for (let m = 0; m < 60; m += 2) out.add(`${m} * * * *`); // hourly: 30
  for (const n of [1, 2, 3, 5, 10, 15, 20, 30]) out.add(n === 1 ? '* * * * *' : `*/${n} * * * *`); // every n minutes: 8
  for (let h = 6; h < 20; h++) for (const m of [0, 30]) out.add(`${m} ${h} * * 1-5`); // weekdays: 28
  for (let h = 0; h < 24; h += 2) out.add(`0 ${h} * * 0`); // weekly: 12
  for (const d of [1, 2, 5, 10, 15, 28]) for (const h of [0, 3, 6, 9]) out.add(`0 ${h} ${d} * *`); // monthly: 24
  for (const h of [1, 2, 3, 4, 5]) out.add(`30 ${h} L * *`); // last day of the month: 5
  for (const d of ['MON#1', 'FRI#L', 'WED#2']) for (const h of [7, 8, 9]) out.add(`0 ${h} * * ${d}`); // nth weekday: 9
  for (const n of [5, 10, 15, 30]) out.add(`0 */${n} * * * *`); // 6 fields, seconds 0: 4
  for (const h of ['8-18', '9-17', '0-6']) for (const n of [5, 10, 15, 30]) out.add(`*/${n} ${h} * * *`); // business hours: 12
  for (const h of ['9,12,15', '8,20', '6,18', '0,12']) for (const m of [0, 5, 10, 20, 40]) out.add(`${m} ${h} * * *`); // several times a day: 20
  out.add('@hourly');
  out.add('@daily');
  out.add('@weekly');
  out.add('@monthly');
  return [...out];
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function pickWeighted(r: () => number, xs: readonly [string, number][]): string {
  const total = xs.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of xs) if ((x -= w) < 0) return v;
  return xs[0]![0];
}

/** A schedule as a person writes it (the input form, before normalisation). */
export type RawSchedule = Record<string, unknown>;

/** The standard mix: 70 % cron, 30 % every; 5 % Frappe target; 2 % disabled; kwargs on most. */
export function makeSchedules(n: number, seed = 42): RawSchedule[] {
  const r = rng(seed);
  const crons = cronPool();
  const apps = ['billing', 'reports', 'crm', 'stock', 'hr', 'ops', 'mail', 'sync'];
  const functions = Array.from(
    { length: 240 },
    (_, i) => `${apps[i % apps.length]}.tasks.job_${Math.floor(i / apps.length)}`,
  );
  const out: RawSchedule[] = [];
  for (let i = 0; i < n; i++) {
    const s: RawSchedule = { id: `sched-${String(i).padStart(6, '0')}`, function: pick(r, functions) };
    if (r() < 0.7) {
      s.cron = pick(r, crons);
      s.timezone = pickWeighted(r, TIMEZONES);
    } else {
      s.every = pick(r, EVERY);
    }
    const q = pick(r, QUEUES);
    if (q !== 'default') s.queue = q;
    if (r() < 0.8) s.kwargs = { company: `Company ${i % 50}`, days: 1 + (i % 30), dry_run: i % 7 === 0 };
    if (r() < 0.2) s.args = [`item-${i % 100}`, 'x'];
    if (r() < 0.3) s.description = `Scheduled ${String(s.function)} for company ${i % 50}`;
    if (r() < 0.05) {
      s.target = 'frappe';
      s.site = 'erp.example.com';
      delete s.args;
    }
    if (r() < 0.1) s.timeout = pick(r, ['5m', '20m', '1h']);
    if (r() < 0.05) s.overlap = 'forbid';
    if (r() < 0.05) s.catchup = pick(r, ['skip', 'all']);
    if (r() < 0.02) s.enabled = false;
    out.push(s);
  }
  return out;
}

/**
 * The same mix, but every schedule fires every `periodS` seconds (which divides 60):
 * half `every`, half a seconds cron in the usual timezones, so all of them are due at
 * the same instants. All enabled and overlap `allow` (no worker drains the queues
 * here, so `forbid` would skip every second run).
 */
export function makeDueTogether(n: number, periodS: number, seed = 7): RawSchedule[] {
  const r = rng(seed + 1);
  return makeSchedules(n, seed).map((s, i) => {
    const out: RawSchedule = { ...s };
    delete out.cron;
    delete out.every;
    delete out.timezone;
    delete out.enabled;
    delete out.overlap;
    if (i % 2 === 0) out.every = `${periodS}s`;
    else {
      out.cron = periodS === 1 ? '* * * * * *' : `*/${periodS} * * * * *`;
      out.timezone = pickWeighted(r, TIMEZONES);
    }
    return out;
  });
}

function tomlValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  return `{ ${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k} = ${tomlValue(x)}`)
    .join(', ')} }`;
}

/** One file's text in `format`: a top-level `schedules` list (TOML, JSON) or a plain list (YAML). */
export function fileText(format: 'json' | 'toml' | 'yaml', schedules: readonly RawSchedule[]): string {
  if (format === 'json') return `${JSON.stringify({ schedules }, null, 2)}\n`;
  if (format === 'toml')
    return schedules
      .map(
        (s) =>
          `[[schedules]]\n${Object.entries(s)
            .map(([k, v]) => `${k} = ${tomlValue(v)}`)
            .join('\n')}\n`,
      )
      .join('\n');
  // YAML: flow style for the nested values, as people write short kwargs.
  return (
    schedules
      .map((s) =>
        Object.entries(s)
          .map(([k, v], i) => `${i === 0 ? '- ' : '  '}${k}: ${JSON.stringify(v)}`)
          .join('\n'),
      )
      .join('\n') + '\n'
  );
}

export const FORMATS = ['json', 'yaml', 'toml'] as const;

/**
 * Writes `schedules` to `dir` as files of `perFile` schedules, the formats in turn (by
 * default a third each), in subdirectories of 100 files. Returns the relative file paths.
 */
export function writeScheduleFiles(
  dir: string,
  schedules: readonly RawSchedule[],
  perFile = 100,
  formats: readonly (typeof FORMATS)[number][] = FORMATS,
): string[] {
  const files: string[] = [];
  for (let i = 0, f = 0; i < schedules.length; i += perFile, f++) {
    const format = formats[f % formats.length]!;
    const sub = `team-${String(Math.floor(f / 100)).padStart(2, '0')}`;
    mkdirSync(join(dir, sub), { recursive: true });
    const rel = `${sub}/schedules-${String(f).padStart(4, '0')}.${format}`;
    writeFileSync(join(dir, rel), fileText(format, schedules.slice(i, i + perFile)));
    files.push(rel);
  }
  return files;
}
