/** The table of settings drives loadConfig, the config schema and the configuration reference (docs/configuration.md). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { configFileSchema } from '../../src/config/config-schema.js';
import { loadConfig, parseConfigDuration } from '../../src/config/load-config.js';
import { normalizeContext } from '../../src/config/normalize-context.js';
import { SETTING_LIST, SETTINGS, type Setting } from '../../src/config/settings.js';
import { DEFAULT_GRACE_MS } from '../../src/dispatch/catchup.js';
import { DEFAULT_CONTEXT } from '../../src/model/normalize.js';
import { Keys } from '../../src/redis/keys.js';
import {
  BEGIN_MARKER,
  END_MARKER,
  SETTINGS_DOC,
  settingsReference,
  withReference,
} from '../../scripts/settings-doc.js';

/** Dotted paths of every leaf of the config file schema (an array or scalar is a leaf). */
function leaves(schema: unknown, prefix = ''): string[] {
  let t = schema as { _zod: { def: { type: string; innerType?: unknown; shape?: Record<string, unknown> } } };
  while (t._zod.def.type === 'optional') t = t._zod.def.innerType as typeof t;
  const shape = (t as unknown as { shape?: Record<string, unknown> }).shape;
  if (t._zod.def.type !== 'object' || !shape) return [prefix];
  return Object.entries(shape).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

/** Reads a dotted key out of a resolved Config (most keys are the same path there). */
const at = (o: unknown, key: string) =>
  key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

describe('the table of settings', () => {
  it('has exactly one row per key of the config file schema', () => {
    const keys = SETTING_LIST.flatMap((s) => (s.key === undefined ? [] : [s.key]));
    expect(keys.sort()).toEqual(leaves(configFileSchema() as z.ZodType).sort());
  });

  it('each flag and each environment variable belongs to one setting', () => {
    const flags = SETTING_LIST.flatMap((s) => (s.flag ? [s.flag] : []));
    const envs = SETTING_LIST.flatMap((s) => (s.env ? [s.env] : []));
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(envs).size).toBe(envs.length);
    for (const s of SETTING_LIST)
      if (s.flag !== undefined)
        expect(s.name, `${s.id}: a flag needs the ConfigFlags field it is passed in`).toBeDefined();
  });

  it('loadConfig takes each setting from its flag, then its environment variable, else its default', () => {
    const sample: Record<string, string> = {
      timezone: 'Europe/Berlin',
      'redis.url': 'redis://h:1/0',
      'log.level': 'debug',
      'btu.runner': 'direct',
      'btu.generation': '2024',
    };
    for (const s of SETTING_LIST) {
      // http.*: an address parsed into host and port, a token that needs the listener on, a token file read: test/unit/http.test.ts.
      if (
        s.key === undefined ||
        (s.env === undefined && s.name === undefined) ||
        s.key === 'log.pretty' ||
        s.key === 'btu.rpc' ||
        s.key.startsWith('http.')
      )
        continue;
      const v = sample[s.key] ?? `/some/${s.key}`;
      if (s.env !== undefined) expect(at(loadConfig({}, { [s.env]: v }), s.key), `${s.env}`).toBe(v);
      if (s.name !== undefined)
        expect(at(loadConfig({ [s.name]: v }, s.env ? { [s.env]: '/from/env' } : {}), s.key), `--${s.flag}`).toBe(v);
    }
    expect(loadConfig({ pretty: true }, {}).log.pretty).toBe(true);
    expect(loadConfig({}, { PYRQ_BTU_RPC: 'false' }).btu.rpc).toBe(false);
    expect(loadConfig({}, { PYRQ_BTU_RPC: '1' }).btu.rpc).toBe(true);
    expect(() => loadConfig({}, { PYRQ_BTU_RPC: 'maybe' })).toThrow(
      /btu\.rpc \(or PYRQ_BTU_RPC\): "maybe" is not true or false/,
    );
    expect(() => loadConfig({}, { PYRQ_BTU_RUNNER: 'rq' })).toThrow(
      /btu\.runner \(or PYRQ_BTU_RUNNER\): "rq" is not one of auto, task-runner, direct/,
    );
  });

  it("the defaults of loadConfig are the table's", () => {
    const c = loadConfig({}, {});
    const d = (id: keyof typeof SETTINGS) => (SETTINGS[id] as Setting).default;
    expect(c.timezone).toBe(d('timezone'));
    expect(c.redis).toMatchObject({ url: d('redis.url'), prefix: d('redis.prefix') });
    expect(c.frappe.user).toBe(d('frappe.user'));
    expect(c.btu).toEqual({
      rpc: d('btu.rpc'),
      runner: d('btu.runner'),
      overlap: d('btu.overlap'),
      generation: d('btu.generation'),
      user: d('btu.user'),
    });
    expect(c.dispatch).toMatchObject({
      catchup: d('dispatch.catchup'),
      overlap: d('dispatch.overlap'),
      historyLength: d('dispatch.historyLength'),
      batchSize: d('dispatch.batchSize'),
    });
    expect(c.dispatch.graceMs).toBe(parseConfigDuration(d('dispatch.grace') as string, 'x'));
    expect(c.daemon.resyncIntervalMs).toBe(parseConfigDuration(d('daemon.resyncInterval') as string, 'x'));
    expect(c.daemon.leaseTtlMs).toBe(parseConfigDuration(d('daemon.leaseTtl') as string, 'x'));
    expect(c.daemon.clientTimeoutMs).toBe(parseConfigDuration(d('daemon.clientTimeout') as string, 'x'));
    expect(c.daemon.socketMode).toBe(parseInt(d('daemon.socketMode') as string, 8));
    expect(c.log).toMatchObject({ level: d('log.level'), pretty: d('log.pretty') });
    const m = loadConfig({ mysqlUrl: 'mysql://u@h/db' }, {}).mysql!;
    expect(m.mode).toBe(d('mysql.mode'));
    expect(m.pollIntervalMs).toBe(parseConfigDuration(d('mysql.pollInterval') as string, 'x'));
    expect(
      loadConfig({ mysqlUrl: 'mysql://u@h/db' }, { [d('mysql.passwordEnv') as string]: 'pw' }).mysql!.password,
    ).toBe('pw');
  });

  it('the configuration reference in docs/configuration.md is the table (run npm run docs:settings)', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', SETTINGS_DOC), 'utf8');
    const begin = doc.indexOf(BEGIN_MARKER);
    const end = doc.indexOf(END_MARKER);
    expect(begin, `${SETTINGS_DOC} has the settings markers`).toBeGreaterThan(-1);
    expect(
      doc
        .slice(begin + BEGIN_MARKER.length, end)
        .trim()
        .split('\n'),
    ).toEqual(settingsReference());
  });

  it('the reference is written between the markers, and a page without them is refused', () => {
    const page = `# Configuration\n\ntext\n\n${BEGIN_MARKER}\nold row\n${END_MARKER}\n\nafter\n`;
    expect(withReference(page, ['| a |', '| b |'])).toBe(
      `# Configuration\n\ntext\n\n${BEGIN_MARKER}\n| a |\n| b |\n${END_MARKER}\n\nafter\n`,
    );
    expect(() => withReference('# Configuration\n', ['| a |'])).toThrow(/docs\/configuration\.md: the markers/);
  });

  it('the fallbacks of code called without a config are the same defaults (none is written a second time)', () => {
    const c = loadConfig({}, {});
    const { timezone, catchup, overlap, frappeUser } = normalizeContext(c);
    expect(DEFAULT_CONTEXT).toEqual({ timezone, catchup, overlap, frappeUser });
    expect(DEFAULT_GRACE_MS).toBe(c.dispatch.graceMs);
    expect(new Keys().prefix).toBe(c.redis.prefix);
  });
});
