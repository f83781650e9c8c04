import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, pyrq } from '../helpers/cli.js';
import { type PrivateRedis, startRedis } from '../helpers/redis-server.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/**
 * The bad-input corpus (fixtures/bad, format in its README): every case is copied into a
 * directory whose known-good schedules are already applied, `pyrq apply` must exit 1
 * printing exactly the expected errors, and the registry must be byte-for-byte as before.
 */
const CORPUS = join(ROOT, 'fixtures', 'bad');
const GOOD = join(ROOT, 'fixtures', 'schedules');
const MAX_RSS_HOOK = join(ROOT, 'scripts', 'max-rss.mjs');
const LANES = 4; // cases run in parallel lanes, each with its own directory and key prefix

// Cases too big to commit: generated into the temp corpus at test time.
const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const GENERATED: Record<string, (path: string) => void> = {
  'huge-50mb.json': (p) => {
    // Exactly 50 MiB: a schedule whose description is padded with spaces, written in chunks.
    const head = '{"id": "huge", "function": "pyrq_fixtures.tasks.heartbeat", "every": "1h", "description": "';
    const tail = '"}\n';
    writeFileSync(p, head);
    let left = 50 * 1024 * 1024 - head.length - tail.length;
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    while (left > 0) {
      writeFileSync(p, left >= chunk.length ? chunk : chunk.subarray(0, left), { flag: 'a' });
      left -= chunk.length;
    }
    writeFileSync(p, tail, { flag: 'a' });
  },
  'json-nested-100k.json': (p) =>
    writeFileSync(
      p,
      `{"id": "deep-json", "function": "pyrq_fixtures.tasks.heartbeat", "every": 60, "args": ${nest(100_000)}}\n`,
    ),
  'yaml-nested-100k.yaml': (p) =>
    writeFileSync(
      p,
      `id: deep-yaml-100k\nfunction: pyrq_fixtures.tasks.heartbeat\nevery: 1h\nargs: ${nest(100_000)}\n`,
    ),
  'toml-nested-100k.toml': (p) =>
    writeFileSync(
      p,
      `id = "deep-toml"\nfunction = "pyrq_fixtures.tasks.heartbeat"\nevery = "1h"\nargs = ${nest(100_000)}\n`,
    ),
};

interface Case {
  name: string;
  /** File or directory name inside the corpus (and inside the applied directory). */
  input: string;
  expected: string[];
}

/** An expected line is exact, or `re:<regex>` matching the whole line. */
function lineMatches(expected: string, actual: string): boolean {
  return expected.startsWith('re:') ? new RegExp(`^(?:${expected.slice(3)})$`).test(actual) : expected === actual;
}

function expectLines(actual: string[], expected: string[], what: string): void {
  const ok = actual.length === expected.length && expected.every((e, i) => lineMatches(e, actual[i]!));
  if (!ok) expect({ what, actual }).toEqual({ what, actual: expected }); // a readable diff
}

const SCHEDULE_FILE = /\.(json|toml|ya?ml)$/;

function loadCases(corpus: string): Case[] {
  const entries = readdirSync(corpus);
  const cases: Case[] = [];
  for (const f of entries.filter((e) => e.endsWith('.expected'))) {
    const name = f.slice(0, -'.expected'.length);
    const inputs = entries.filter(
      (e) => e === name || (SCHEDULE_FILE.test(e) && e.replace(SCHEDULE_FILE, '') === name),
    );
    if (inputs.length !== 1)
      throw new Error(
        `fixtures/bad/${f}: expected exactly one input (${name}.json|toml|yaml|yml or ${name}/), found ${inputs.length}`,
      );
    const expected = readFileSync(join(corpus, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    cases.push({ name, input: inputs[0]!, expected });
  }
  // An input without an .expected file would never be run: refuse it.
  for (const e of entries) {
    const isInput = SCHEDULE_FILE.test(e) || statSync(join(corpus, e)).isDirectory();
    if (isInput && !cases.some((c) => c.input === e)) throw new Error(`fixtures/bad/${e} has no .expected file`);
  }
  return cases.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * DUMP of every key under the prefix: equal snapshots mean a byte-identical registry.
 * Except `<prefix>sources`: that is not the registry but the source health that apply
 * records for `pyrq status` (its errors are checked against the printed ones instead).
 */
async function snapshot(redis: Redis, prefix: string): Promise<Record<string, string>> {
  const keys = (await redis.keys(`${prefix}*`)).filter((k) => k !== `${prefix}sources`).sort();
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = (await redis.dumpBuffer(k)).toString('base64');
  return out;
}

/** The `  ! ...` lines that `pyrq apply` prints under "Errors". */
function errorLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('  ! '))
    .map((l) => l.slice(4));
}

let server: PrivateRedis;
let redis: Redis;
let tmp: ReturnType<typeof tmpDir>;
let corpus: string;
let cases: Case[];
const rss = new Map<string, { kib: number; ms: number }>();

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  tmp = tmpDir('pyrq-bad-');
  corpus = join(tmp.path, 'corpus');
  cpSync(CORPUS, corpus, { recursive: true });
  rmSync(join(corpus, 'README.md'), { force: true });
  for (const [name, gen] of Object.entries(GENERATED)) {
    if (existsSync(join(CORPUS, name)))
      throw new Error(`fixtures/bad/${name} is generated by the test; do not commit it`);
    gen(join(corpus, name));
  }
  cases = loadCases(corpus);
});
afterAll(async () => {
  await server?.close();
  tmp?.cleanup();
});

const env = (extra: Record<string, string> = {}) => ({
  PYRQ_REDIS_URL: server.url,
  PYRQ_CONFIG: undefined as unknown as string,
  PYRQ_DIR: undefined as unknown as string,
  ...extra,
});

/** Runs `pyrq` with the peak-RSS hook; returns the result with its peak RSS and wall time. */
async function measured(args: string[], label: string) {
  const file = join(tmp.path, `rss-${label.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  const started = performance.now();
  const r = await pyrq(args, {
    env: env({ NODE_OPTIONS: `--import=${MAX_RSS_HOOK}`, PYRQ_MAX_RSS_FILE: file }),
    timeoutMs: 60_000,
  });
  const ms = Math.round(performance.now() - started);
  const kib = Number(readFileSync(file, 'utf8').trim().split('\n').pop());
  rss.set(label, { kib, ms });
  return r;
}

// A declared sequence (kept in order under --sequence.shuffle): the peak-RSS test reads the
// measurements the corpus run before it records.
describe('the bad-input corpus', { shuffle: false }, () => {
  it('every case is rejected by apply with its expected errors, and the registry is unchanged', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(90);
    const lanes = Array.from({ length: LANES }, (_, i) => ({
      prefix: `bad${i}:`,
      dir: join(tmp.path, `applied-${i}`),
      cases: cases.filter((_, j) => j % LANES === i),
    }));
    const failures: string[] = [];
    await Promise.all(
      lanes.map(async (lane) => {
        cpSync(GOOD, lane.dir, { recursive: true });
        const good = await measured(
          ['apply', '--dir', lane.dir, '--prefix', lane.prefix, '--json'],
          `known-good ${lane.prefix}`,
        );
        expect(good.code, good.stderr).toBe(0);
        expect(good.json().summary.create).toBe(13);
        const before = await snapshot(redis, lane.prefix);
        expect(Object.keys(before).length).toBeGreaterThan(13);
        for (const c of lane.cases) {
          cpSync(join(corpus, c.input), join(lane.dir, c.input), { recursive: true });
          const r = await measured(['apply', '--dir', lane.dir, '--prefix', lane.prefix], c.name);
          try {
            expect(r.code, `${c.name}: exit code\n${r.stdout}\n${r.stderr}`).toBe(1);
            expectLines(errorLines(r.stdout), c.expected, c.name);
            expect(await snapshot(redis, lane.prefix), `${c.name}: registry changed`).toEqual(before);
            // What `pyrq status` will show without a daemon: the same lines.
            const health = JSON.parse((await redis.hget(`${lane.prefix}sources`, 'files')) ?? '{}') as {
              errors?: string[];
            };
            expectLines(health.errors ?? [], c.expected, `${c.name}: recorded source health`);
          } catch (e) {
            failures.push(`${c.name}: ${(e as Error).message}`);
          }
          rmSync(join(lane.dir, c.input), { recursive: true });
        }
      }),
    );
    expect(failures).toEqual([]);
  }, 300_000);

  it('validate prints the same lines for the whole corpus beside the known-good files', async () => {
    const dir = join(tmp.path, 'validate');
    cpSync(GOOD, dir, { recursive: true });
    cpSync(corpus, dir, { recursive: true });
    const r = await pyrq(['validate', dir, '--json'], { env: env(), timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    const actual = (r.json().errors as { text: string }[]).map((e) => e.text.slice(dir.length + 1)).sort();
    const expected = cases.flatMap((c) => c.expected);
    expect(actual.length).toBe(expected.length);
    const unmatched = expected.filter((e) => !actual.some((a) => lineMatches(e, a)));
    expect(unmatched).toEqual([]);
  }, 120_000);

  it('the 50 MB file is refused without being read: peak RSS stays near a plain apply', () => {
    const huge = rss.get('huge-50mb');
    const base = Math.max(...[...rss.entries()].filter(([k]) => k.startsWith('known-good')).map(([, v]) => v.kib));
    expect(huge).toBeDefined();
    // Reading 50 MiB would cost 50 MiB for the bytes alone and as much again for the text.
    expect(huge!.kib).toBeLessThan(base + 24 * 1024);
    const top = [...rss.entries()].sort((a, b) => b[1].kib - a[1].kib).slice(0, 5);
    console.log(
      `bad-input: 50 MB file refused in ${huge!.ms} ms, peak RSS ${Math.round(huge!.kib / 1024)} MiB (a plain apply: ${Math.round(base / 1024)} MiB); ` +
        `highest peaks: ${top.map(([k, v]) => `${k} ${Math.round(v.kib / 1024)} MiB/${v.ms} ms`).join(', ')}`,
    );
  });
});
