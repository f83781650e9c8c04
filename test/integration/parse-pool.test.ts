import { cpSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAllowlist } from '../../src/config/normalize-context.js';
import { DEFAULT_CONTEXT, type NormalizeContext } from '../../src/model/normalize.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import type { SourceSnapshot } from '../../src/source.js';
import { FileSource } from '../../sources/files/file-source.js';
import { poolStats } from '../../sources/files/parse-pool.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// A large read (a cold apply, a deep re-sync) is parsed on worker threads; these tests
// hold the threads to the same result, schedule for schedule and error for error, as
// parsing on the main thread.
let dir: ReturnType<typeof tmpDir>;

beforeAll(() => {
  dir = tmpDir();
  cpSync(join(PACKAGE_ROOT, 'fixtures', 'schedules'), join(dir.path, 'good'), { recursive: true });
  // Every bad-input case (but the big ones) in one tree: errors of every kind.
  const bad = join(PACKAGE_ROOT, 'fixtures', 'bad');
  mkdirSync(join(dir.path, 'bad'));
  for (const name of readdirSync(bad)) {
    const full = join(bad, name);
    if (
      !name.endsWith('.expected') &&
      name !== 'README.md' &&
      statSync(full).isFile() &&
      statSync(full).size < 1_000_000
    )
      cpSync(full, join(dir.path, 'bad', name));
  }
  mkdirSync(join(dir.path, 'many'));
  for (let f = 0; f < 60; f++) {
    const schedules = Array.from({ length: 5 }, (_, i) => ({
      id: `gen-${f}-${i}`,
      function: f % 2 ? 'billing.tasks.run' : 'ops.tasks.run',
      cron: `${i} ${f % 24} * * *`,
      timezone: 'Europe/Berlin',
      kwargs: { n: f * 10 + i, big: 2n ** 60n + BigInt(i) },
    }));
    writeFileSync(
      join(dir.path, 'many', `f${f}.json`),
      JSON.stringify({ schedules }, (_, v) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(/"@@(\d+)@@"/g, '$1'),
    );
  }
});
afterAll(() => dir.cleanup());

const snap = (
  ctx: NormalizeContext,
  opts: { parseThreads?: number; parseWorkerFile?: string },
): Promise<SourceSnapshot> => new FileSource({ dir: dir.path, ctx, ...opts }).snapshot();

const comparable = (s: SourceSnapshot) => ({
  schedules: s.schedules,
  errors: s.errors,
  heldOrigins: s.heldOrigins,
  heldIds: s.heldIds,
  stale: s.stale,
});

describe('parse workers', () => {
  it('give exactly the result of parsing inline: schedules, hashes, big integers and every error', async () => {
    const before = { ...poolStats };
    const threaded = await snap(DEFAULT_CONTEXT, { parseThreads: 2 });
    expect(poolStats.started).toBe(before.started + 1);
    // The files went through the threads (none is refused by size before reading).
    expect(poolStats.parsed - before.parsed).toBeGreaterThan(150);
    const afterThreaded = { ...poolStats };
    const inline = await snap(DEFAULT_CONTEXT, { parseThreads: 0 });
    // Parsing inline starts no pool and sends no file through one.
    expect(poolStats).toEqual(afterThreaded);
    expect(threaded.schedules.length).toBeGreaterThan(300);
    expect(threaded.errors.length).toBeGreaterThan(80);
    expect(threaded.schedules.find((d) => d.spec.id === 'gen-3-1')!.spec.kwargs).toEqual({
      n: 31,
      big: 2n ** 60n + 1n,
    });
    expect(comparable(threaded)).toEqual(comparable(inline));
  });

  it('a fresh read after a threaded one parses again only the files whose bytes changed', async () => {
    const src = new FileSource({ dir: dir.path, ctx: DEFAULT_CONTEXT, parseThreads: 2 });
    const first = await src.snapshot();
    const before = { ...poolStats };
    // The workers sent the digest of the bytes they parsed: nothing is parsed again.
    expect(comparable(await src.snapshot({ fresh: true }))).toEqual(comparable(first));
    expect(poolStats).toEqual(before);
  });

  it('apply the allowlist as the main thread does (the patterns cross, not the function)', async () => {
    const ctx = {
      ...DEFAULT_CONTEXT,
      allowFunction: compileAllowlist(['billing.*']),
      allowPatterns: ['billing.*'],
      allowDescription: 'allow = "billing.*"',
    };
    const threaded = await snap(ctx, { parseThreads: 2 });
    const inline = await snap(ctx, { parseThreads: 0 });
    expect(threaded.errors.some((e) => e.message.includes('allow = "billing.*"'))).toBe(true);
    expect(comparable(threaded)).toEqual(comparable(inline));
  });

  it('a worker that dies leaves its files to the main thread: same result, no error of the source', async () => {
    const broken = join(dir.path, '..', `broken-worker-${process.pid}.mjs`);
    writeFileSync(broken, "throw new Error('worker failed to start');\n");
    const before = { ...poolStats };
    const threaded = await snap(DEFAULT_CONTEXT, { parseThreads: 2, parseWorkerFile: broken });
    expect(poolStats).toEqual({ started: before.started + 1, parsed: before.parsed });
    expect(comparable(threaded)).toEqual(comparable(await snap(DEFAULT_CONTEXT, { parseThreads: 0 })));
  });
  it('a file too large for a worker heap is parsed on the main thread: same result, no error', async () => {
    // A worker's old generation is capped (parse-pool.ts); a file just under the size limit
    // (files.maxFileBytes) holding a 4-million-item list needs more, and its worker runs out
    // of memory: the file is then parsed inline, like any file of a failed worker.
    const big = tmpDir();
    try {
      for (let f = 0; f < 30; f++)
        writeFileSync(join(big.path, `f${f}.json`), JSON.stringify({ id: `s${f}`, function: 'a.b', every: '1h' }));
      writeFileSync(
        join(big.path, 'huge.json'),
        `{"id":"huge","function":"a.b","every":"1h","args":[${Array<string>(4_100_000).fill('1').join(',')}]}`,
      );
      const read = (parseThreads: number) =>
        new FileSource({ dir: big.path, ctx: DEFAULT_CONTEXT, parseThreads }).snapshot();
      const before = { ...poolStats };
      const threaded = await read(2);
      expect(poolStats.started).toBe(before.started + 1);
      // The 30 small files went through the threads; the huge one did not come back from them.
      expect(poolStats.parsed - before.parsed).toBe(30);
      expect(threaded.errors).toEqual([]);
      expect(threaded.schedules.length).toBe(31);
      expect(comparable(threaded)).toEqual(comparable(await read(0)));
    } finally {
      big.cleanup();
    }
  });
});
