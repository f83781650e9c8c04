import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../src/dispatch/history.js';
import { Keys } from '../../src/redis/keys.js';
import { pyrq } from '../helpers/cli.js';
import { useDaemonWorld } from '../helpers/daemon-world.js';
import { eventually } from '../helpers/eventually.js';

// `times` with real daemons: the count lives in Redis, so a restarted leader (and a
// standby that takes over) goes on counting where the last one stopped.
const w = useDaemonWorld();

describe('times across daemon restarts', () => {
  it('a schedule every 2 s with times: 3 fires 3 jobs over a restart and a failover, then shows done', async () => {
    const { world } = w;
    writeFileSync(
      join(world.schedules, 'bounded.yaml'),
      '- id: bounded\n  function: pyrq_fixtures.tasks.echo\n  every: 2s\n  times: 3\n',
    );
    const fired = async () => Number((await world.redis.hget('pyrq:schedule:bounded', 'fired')) ?? 0);
    const a = await w.daemon('a');
    await eventually(async () => (await fired()) >= 1, { message: 'a first job', timeout: 20_000 });
    await a.stop('SIGKILL');
    // Stopped half-way (the next job was 2 s away): the rest is up to the next daemons.
    expect(await fired()).toBeLessThan(3);
    // Two daemons now: a restarted one and another; whichever leads goes on from the count.
    await w.daemon('b');
    await w.daemon('c');
    await eventually(async () => (await world.redis.hget('pyrq:schedule:bounded', 'done')) === '1', {
      message: 'the schedule done',
      timeout: 30_000,
    });
    expect(await fired()).toBe(3);
    const jobs = (await readHistory(world.redis, new Keys(), 'bounded', 50)).filter((r) => r.outcome === 'enqueued');
    expect(jobs).toHaveLength(3);
    expect(new Set(jobs.map((r) => r.jobId)).size).toBe(3);
    expect(await world.redis.llen('rq:queue:default')).toBe(3);
    expect(await world.redis.zscore('pyrq:next', 'bounded')).toBeNull();
    const status = await pyrq(['status', 'bounded', '--json', '--redis-url', world.server.url, '--no-daemon']);
    expect(status.json().schedules[0]).toMatchObject({
      id: 'bounded',
      next: null,
      nextRelative: 'done (3 of 3 runs)',
      times: { limit: 3, fired: 3 },
    });
  }, 90_000);
});
