/**
 * docs/cli.md against the program (issue 26): the exit-code table, cell by cell, by a
 * case that runs the built CLI and must exit with that code; the flag lists against the
 * commands' flags (oclif.manifest.json, written by `npm run build`); the usage error
 * quoted in the doc against what the CLI prints.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, pyrq, ROOT } from '../helpers/cli.js';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const DOC = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
const env = { PYRQ_CONFIG: '' };

/** The rows of the first Markdown table after `heading`, as cells (header row first). */
function table(doc: string, heading: string): string[][] {
  const rest = doc.slice(doc.indexOf(heading));
  const lines = rest.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith('|')) break;
    if (/^\|[-|\s]+\|$/.test(l)) continue;
    rows.push(
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

/** The documented cells: "code column" -> the text, for every non-empty cell. */
function documentedCells(): Map<string, string> {
  const [header, ...rows] = table(DOC, '## Exit codes');
  const columns = header!.slice(1).map((c) => c.replace(/`/g, ''));
  const cells = new Map<string, string>();
  for (const r of rows) for (let i = 1; i < r.length; i++) if (r[i]) cells.set(`${r[0]} ${columns[i - 1]}`, r[i]!);
  return cells;
}

let server: PrivateRedis;
let redis: Redis;
let dir: ReturnType<typeof tmpDir>;
let good: string;
let broken: string;
let disabled: string;
let daemon: DaemonProcess;

/** A directory with one file. */
function dirWith(name: string, content: string): string {
  const d = join(dir.path, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'jobs.json'), content);
  return d;
}

beforeAll(async () => {
  server = await startRedis({ persistent: true });
  redis = server.client();
  dir = tmpDir('pyrq-docs-match-');
  good = dirWith('good', JSON.stringify([{ id: 'a', function: 'app.tasks.run', every: 60 }]));
  broken = dirWith('broken', JSON.stringify([{ id: 'b', function: 'app.tasks.run', cron: '61 * * * *' }]));
  disabled = dirWith('disabled', JSON.stringify([{ id: 'c', function: 'app.tasks.run', every: 60, enabled: false }]));
  // doctor's "every check is ok": a daemon leads, on a prefix of its own, whose only schedule is disabled (no worker needed).
  daemon = await startDaemon(['--dir', disabled, '--redis-url', server.url, '--prefix', 'dm:', '--log-level', 'info'], {
    socket: join(dir.path, 'pyrq.sock'),
  });
  await daemon.waitForLog((l) => l.msg === 'became leader', 15_000);
  // The one-writer cells need the daemon's record of what it owns.
  await eventually(
    async () => (await redis.hexists('dm:daemon', 'owner')) === 1,
    'the daemon records its sources',
    15_000,
  );
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await server?.close();
  dir?.cleanup();
});

/** Runs pyrq against the private Redis, on `prefix` (one per case: cases run alone, in any order). */
const run = async (prefix: string, args: string[]) =>
  (await pyrq([...args, '--redis-url', server.url, '--prefix', prefix], { env, timeoutMs: 60_000 })).code;
const runBare = async (args: string[]) => (await pyrq(args, { env, timeoutMs: 60_000 })).code;

/** Ctrl-C in the middle of a large apply (Redis frozen after the first batch, so it surely is mid-apply). */
async function interruptedApply(): Promise<number | null> {
  const d = dirWith(
    'large',
    JSON.stringify({
      schedules: Array.from({ length: 5000 }, (_, i) => ({ id: `j-${i}`, function: 'app.tasks.run', every: 60 + i })),
    }),
  );
  const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))![1]);
  const child = spawn(process.execPath, [BIN, 'apply', '--dir', d, '--redis-url', server.url, '--prefix', 'int:'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += String(c)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await eventually(async () => (await redis.hlen('int:index')) > 0, 'the first batch applied', 30_000, 2);
  process.kill(pid, 'SIGSTOP');
  try {
    child.kill('SIGINT');
    await eventually(async () => stderr.includes('Interrupted'), 'the interrupt acknowledged', 10_000);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  return exited;
}

/** One case per documented cell: "code column" -> a run that must exit with that code. */
const CASES: Record<string, () => Promise<number | null>> = {
  '0 diff': async () => (await run('d0:', ['apply', '--dir', good]), run('d0:', ['diff', '--dir', good])),
  '1 diff': () => run('d1:', ['diff', '--dir', broken]),
  '2 diff': () => run('d2:', ['diff', '--dir', good]),
  '64 diff': () => run('d64:', ['diff', '--dir', good, '--wdie']),
  '0 apply': () => run('a0:', ['apply', '--dir', good]),
  '1 apply': () => run('a1:', ['apply', '--dir', broken]),
  '2 apply': () => run('a2:', ['apply', '--dir', good, '--dry-run']),
  '64 apply': () => run('a64:', ['apply', '--directory', good]),
  '130 apply': interruptedApply,
  // The daemon owns dm:'s files source, read from `disabled`: an apply from `good` would change it.
  '3 apply': () => run('dm:', ['apply', '--dir', good]),
  '0 validate': () => runBare(['validate', good]),
  '1 validate': () => runBare(['validate', broken]),
  '64 validate': () => runBare(['validate', '--wdie']),
  '0 doctor': async () => {
    const r = await pyrq(['doctor', '--dir', disabled, '--redis-url', server.url, '--prefix', 'dm:'], { env });
    expect(r.stdout).toContain('0 warnings, 0 failures');
    return r.code;
  },
  '1 doctor': () => runBare(['doctor', '--config', join(dir.path, 'no-such.toml')]),
  // The daemon leads on dm:, the schedule is enabled, and no worker listens on "default".
  '3 doctor': () => run('dm:', ['doctor', '--dir', good]),
  '4 doctor': async () => runBare(['doctor', '--dir', good, '--redis-url', `redis://127.0.0.1:${await freePort()}`]),
  '64 doctor': () => runBare(['doctor', '--jsn']),
  '0 other commands': () => runBare(['next', '--cron', '0 3 * * *']),
  '1 other commands': () => run('o1:', ['trigger', 'no-such-schedule']),
  '64 other commands': () => runBare(['stauts']),
  '3 other commands': () => run('dm:', ['prune', '--source', 'files', '--yes']),
};

describe('docs/cli.md matches the program', () => {
  it('every cell of the exit-code table has a case here, and every case a cell', () => {
    expect([...documentedCells().keys()].sort()).toEqual(Object.keys(CASES).sort());
  });

  it.each(Object.keys(CASES))(
    'exit code table: %s',
    async (cell) => {
      const [code] = cell.split(' ');
      expect(await CASES[cell]!(), `${cell}: ${documentedCells().get(cell)}`).toBe(Number(code));
    },
    120_000,
  );

  it('the flag lists name exactly the commands that have each flag', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { flags: Record<string, { hidden?: boolean }> }>;
    };
    const section = DOC.slice(DOC.indexOf('- on every command:'), DOC.indexOf('`-n` means'));
    const bullets = section.split(/\n- /).map((b) => b.replace(/\s+/g, ' '));
    let checked = 0;
    for (const b of bullets) {
      const [who, what] = [b.slice(0, b.indexOf(':')), b.slice(b.indexOf(':') + 1)];
      const flags = [...what.matchAll(/`--([a-z][\w-]*)/g)].map((m) => m[1]!);
      // "On the daemon" in the socket bullet, and every command in the first one.
      const named = [...who.matchAll(/`([a-z]+)`/g)].map((m) => m[1]!);
      if (/on the daemon|and on the daemon/.test(who)) named.push('daemon');
      const commands = /every command/.test(who) ? Object.keys(manifest.commands) : named;
      for (const flag of flags.filter((f) => !/^(config|log-level|json)$/.test(f) || /every command/.test(who))) {
        const have = Object.entries(manifest.commands)
          .filter(([, c]) => c.flags[flag] !== undefined && !c.flags[flag].hidden)
          .map(([id]) => id)
          .sort();
        expect(have, `--${flag}: ${who}`).toEqual([...new Set(commands)].sort());
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('the usage error quoted in the doc is what the CLI prints', async () => {
    const block = /```\n\$ pyrq status --wdie\n([\s\S]*?)```/.exec(DOC)![1]!;
    const r = await pyrq(['status', '--wdie'], { env });
    expect(r.stderr).toBe(block);
  });
});
