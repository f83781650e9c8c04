import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfigDuration } from '../../src/config/load-config.js';
import { durationTextMs, parseDuration } from '../../src/model/duration.js';
import { tmpDir } from '../helpers/tmp-dir.js';

describe('the one duration grammar', () => {
  it('reads numbers of seconds and compound terms, largest unit first', () => {
    const cases: [string, number][] = [
      ['90', 90_000],
      ['0.5', 500],
      ['90s', 90_000],
      ['15m', 900_000],
      ['500ms', 500],
      ['1h30m', 5_400_000],
      ['1.5h', 5_400_000],
      ['2d', 172_800_000],
      ['1w', 604_800_000],
      ['1m30s250ms', 90_250],
      [' 1H30M ', 5_400_000],
      ['-5', -5000],
    ];
    for (const [text, ms] of cases) expect(durationTextMs(text), text).toBe(ms);
  });

  it('refuses what does not follow it', () => {
    for (const text of [
      '',
      ' ',
      'soon',
      '-5m',
      '5 minutes',
      '30m1h',
      '1h 30m',
      '1hh',
      'twice a day',
      '5x',
      '.5s',
      '1e3s',
    ]) {
      expect(durationTextMs(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('schedules take whole seconds from 1 s to 366 d', () => {
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('2000ms')).toBe(2);
    expect(parseDuration(45)).toBe(45);
    expect(parseDuration('1500ms')).toEqual({ reason: 'must be a whole number of seconds' });
    expect(parseDuration(1.5)).toEqual({ reason: 'must be a whole number of seconds' });
    expect(parseDuration('0s')).toEqual({ reason: 'must be at least 1 second' });
    expect(parseDuration('-5')).toEqual({ reason: 'must be at least 1 second' });
    expect(parseDuration('-5m')).toEqual({
      reason: 'expected a duration such as "90s", "15m", "1h30m", "2d" or a number of seconds',
    });
    expect(parseDuration('1000000d')).toEqual({
      reason: '86400000000 seconds is longer than the maximum of 31622400 (366d)',
    });
  });

  it('the config file takes any positive time, in milliseconds', () => {
    expect(parseConfigDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseConfigDuration('500ms', 'x')).toBe(500);
    expect(parseConfigDuration(0.5, 'x')).toBe(500);
    expect(parseConfigDuration('2d', 'x')).toBe(172_800_000);
    for (const bad of ['soon', '0s', '-5', 0, -1, Number.NaN])
      expect(() => parseConfigDuration(bad, 'daemon.leaseTtl'), String(bad)).toThrow(
        /daemon\.leaseTtl: .* is not a duration/,
      );
  });
});

describe('config durations in a file', () => {
  let dir: ReturnType<typeof tmpDir>;
  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(() => dir.cleanup());

  it('resyncInterval = "1h30m" (refused before the grammars were one)', () => {
    const p = join(dir.path, 'pyrq.toml');
    writeFileSync(p, '[daemon]\nresyncInterval = "1h30m"\nleaseTtl = "1m30s"\n[dispatch]\ngrace = "1500ms"\n');
    const c = loadConfig({ config: p }, {});
    expect(c.daemon.resyncIntervalMs).toBe(5_400_000);
    expect(c.daemon.leaseTtlMs).toBe(90_000);
    expect(c.dispatch.graceMs).toBe(1500);
  });
});
