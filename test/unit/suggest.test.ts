import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { parseRequest } from '../../src/control/protocol.js';
import { issueText } from '../../src/model/issues.js';
import { DEFAULT_CONTEXT, normalizeSchedule } from '../../src/model/normalize.js';
import { suggest, suggestTimezone } from '../../src/model/suggest.js';
import { notFoundAmong } from '../../src/registry/not-found.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// Issue 17: "did you mean …" wherever pyrq refuses a name.
const problems = (raw: Record<string, unknown>) => {
  const r = normalizeSchedule({ id: 'x', function: 'app.tasks.run', every: 60, ...raw }, DEFAULT_CONTEXT);
  return r.ok ? [] : r.issues.map(issueText);
};

let dir: ReturnType<typeof tmpDir>;
beforeEach(() => {
  dir = tmpDir();
});
afterEach(() => dir.cleanup());

describe('did you mean', () => {
  it('the closest word within a third of its length, or a word it begins; nothing when nothing is close', () => {
    expect(suggest('kwarg', ['args', 'kwargs'])).toBe('kwargs');
    expect(suggest('que', ['queue', 'id'])).toBe('queue');
    expect(suggest('zzz', ['queue', 'id'])).toBeUndefined();
    expect(suggest('x', ['id', 'at'])).toBeUndefined();
  });

  it('schedule fields, including a short prefix such as que:', () => {
    expect(problems({ kwarg: {} })).toEqual(['kwarg: unknown field (did you mean "kwargs"?)']);
    expect(problems({ que: 'low' })).toEqual(['que: unknown field (did you mean "queue"?)']);
    expect(problems({ frobnicate: 1 })).toEqual(['frobnicate: unknown field']);
  });

  it('enum values', () => {
    expect(problems({ catchup: 'lates' })).toEqual([
      'catchup: must be one of "skip", "latest", "all", got "lates" (did you mean "latest"?)',
    ]);
  });

  it('timezones: a typo, a bare city, and none close', () => {
    expect(suggestTimezone('Europe/Berln')).toBe('Europe/Berlin');
    expect(suggestTimezone('Berlin')).toBe('Europe/Berlin');
    expect(suggestTimezone('new york')).toBe('America/New_York');
    expect(problems({ timezone: 'Europe/Berln' })).toEqual([
      'timezone: unknown timezone "Europe/Berln" (did you mean "Europe/Berlin"?)',
    ]);
    expect(problems({ timezone: 'Qqqqq/Zzzzzz' })).toEqual([
      'timezone: unknown timezone "Qqqqq/Zzzzzz" (use an IANA name such as "Europe/Berlin" or "UTC")',
    ]);
  });

  it('config keys and the config timezone', () => {
    const cfg = join(dir.path, 'pyrq.toml');
    writeFileSync(cfg, '[redis]\nurll = "redis://127.0.0.1:6379"\n');
    expect(() => loadConfig({ config: cfg }, {})).toThrow('redis.urll: unknown field (did you mean "url"?)');
    writeFileSync(cfg, 'timezone = "Europe/Berln"\n');
    expect(() => loadConfig({ config: cfg }, {})).toThrow(
      'timezone: unknown timezone "Europe/Berln" (did you mean "Europe/Berlin"?)',
    );
  });

  it('socket ops and request fields', () => {
    expect(() => parseRequest('{"op":"stauts"}')).toThrow(
      'unknown op "stauts" (did you mean "status"? one of ping, status',
    );
    expect(() => parseRequest('{"op":"delete","idd":"x"}')).toThrow('unknown field "idd" (did you mean "id"?)');
  });

  it('schedule ids that are not in the registry', () => {
    expect(notFoundAmong(['nightly-invoice', 'zzz'], ['nightly-invoices', 'weekly-report']).message).toBe(
      'no schedule "nightly-invoice" (did you mean "nightly-invoices"?), "zzz" in the registry (pyrq status lists them all)',
    );
  });
});
