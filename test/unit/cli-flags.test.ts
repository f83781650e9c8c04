/**
 * The CLI's flags, from the command classes themselves (no process spawned): each
 * command lists only the flags it uses, a short flag means one thing, every setting flag
 * shows its environment variable and default, every command states its exit codes.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTING_LIST, settingLabel } from '../../src/config/settings.js';

interface FlagDef {
  char?: string;
  summary?: string;
  hidden?: boolean;
  aliases?: string[];
}
interface CommandClass {
  flags: Record<string, FlagDef>;
  baseFlags: Record<string, FlagDef>;
  enableJsonFlag: boolean;
  description: string;
  examples: unknown[];
}

const DIR = join(import.meta.dirname, '..', '..', 'cli', 'commands');
const commands = new Map<string, CommandClass>();
for (const f of readdirSync(DIR).filter((n) => n.endsWith('.ts'))) {
  commands.set(f.replace(/\.ts$/, ''), (await import(join(DIR, f))).default as CommandClass);
}
/** The flags `--help` lists: base and command flags, without the hidden ones. */
const visible = (c: CommandClass) => Object.entries({ ...c.baseFlags, ...c.flags }).filter(([, f]) => !f.hidden);
const names = (c: CommandClass) => visible(c).map(([n]) => n);

describe('CLI flags', () => {
  it('knows every command', () => {
    expect([...commands.keys()].sort()).toEqual([
      'apply',
      'backfill',
      'daemon',
      'delete',
      'diff',
      'doctor',
      'history',
      'next',
      'pause',
      'prune',
      'push',
      'reconcile',
      'resume',
      'status',
      'tick',
      'trigger',
      'validate',
    ]);
  });

  it('lists the Redis flags only on commands that use Redis, the source flags on every command that reads sources', () => {
    const uses = (flag: string) =>
      [...commands]
        .filter(([, c]) => names(c).includes(flag))
        .map(([n]) => n)
        .sort();
    expect(uses('redis-url')).toEqual([
      'apply',
      'backfill',
      'daemon',
      'delete',
      'diff',
      'doctor',
      'history',
      'next',
      'pause',
      'prune',
      'resume',
      'status',
      'tick',
      'trigger',
    ]);
    expect(uses('prefix')).toEqual(uses('redis-url'));
    expect(uses('dir')).toEqual(['apply', 'daemon', 'diff', 'doctor', 'tick', 'validate']);
    expect(uses('mysql-url')).toEqual(uses('dir'));
    expect(uses('socket')).toEqual(['daemon', 'delete', 'push', 'reconcile', 'status']);
    expect(uses('log-file')).toEqual(['daemon']);
    for (const [n, c] of commands) expect(names(c), n).toEqual(expect.arrayContaining(['config', 'log-level']));
  });

  it('still accepts --redis-url and --prefix, hidden, where Redis is not used (scripts that pass them everywhere)', () => {
    for (const n of ['validate', 'push', 'reconcile']) {
      const c = commands.get(n)!;
      expect(c.flags['redis-url']?.hidden, n).toBe(true);
      expect(c.flags.prefix?.hidden, n).toBe(true);
    }
  });

  it('shows the environment variable and default of every setting flag', () => {
    const byFlag = new Map(SETTING_LIST.filter((s) => s.flag).map((s) => [s.flag!, s]));
    let checked = 0;
    for (const [n, c] of commands) {
      for (const [flag, def] of visible(c)) {
        const s = byFlag.get(flag);
        // --log-level of one-shot commands is their own stderr level, not the daemon's log.level.
        if (!s || (flag === 'log-level' && n !== 'daemon')) continue;
        expect(def.summary, `${n} --${flag}`).toContain(settingLabel(s));
        if (s.env) expect(def.summary, `${n} --${flag}`).toContain(`env: ${s.env}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(commands.get('diff')!.flags['redis-url']!.summary).toMatch(
      /^\[default: redis:\/\/127\.0\.0\.1:6379\/0, env: PYRQ_REDIS_URL\] /,
    );
  });

  it('gives each short flag one meaning', () => {
    const meaning = new Map<string, Set<string>>();
    for (const [, c] of commands)
      for (const [flag, def] of visible(c))
        if (def.char) meaning.set(def.char, (meaning.get(def.char) ?? new Set()).add(flag));
    for (const [char, flags] of meaning) expect([...flags], `-${char}`).toHaveLength(1);
    expect([...meaning.get('n')!]).toEqual(['count']);
    expect(commands.get('history')!.flags.count!.aliases).toEqual(['limit']);
  });

  it('states the exit codes and gives an example on every command, and --json everywhere', () => {
    for (const [n, c] of commands) {
      expect(c.description, n).toMatch(/Exit codes[^:]*: 0 /);
      expect(c.examples.length, n).toBeGreaterThan(0);
      expect(c.enableJsonFlag, n).toBe(true);
    }
  });
});
