/**
 * The `queue` label of pyrq_occurrences_total is bounded (issue 22, point 7): 26 queues
 * make at most 20 series of their own plus `queue="other"`, and the series of a queue
 * whose schedules are deleted disappear from /metrics.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type DaemonProcess, eventually, startDaemon } from '../helpers/daemon.js';
import { startDaemonWorld, stopDaemonWorld } from '../helpers/daemon-world.js';
import { parsePrometheusText, type Exposition } from '../helpers/prom-text.js';
import type { PrivateRedis } from '../helpers/redis-server.js';
import type { tmpDir } from '../helpers/tmp-dir.js';
import { MAX_QUEUE_LABELS } from '../../src/http/queue-labels.js';

let server: PrivateRedis;
let dir: ReturnType<typeof tmpDir>;
let schedules: string;
const daemons: DaemonProcess[] = [];

beforeEach(async () => {
  ({ server, dir, schedules } = await startDaemonWorld());
});

afterEach(() => stopDaemonWorld({ server, dir }, daemons));

const queuesOf = (m: Exposition): Set<string> =>
  new Set(m.samples.filter((s) => s.name === 'pyrq_occurrences_total').map((s) => s.labels.queue!));

it('at most MAX_QUEUE_LABELS queues have series; a deleted queue loses its series', async () => {
  // 25 queues of one schedule each, and "gone" with three: the largest, so it has a series.
  writeFileSync(
    join(schedules, 'many.json'),
    JSON.stringify(
      Array.from({ length: 25 }, (_, i) => ({
        id: `s${i}`,
        function: 'app.tasks.run',
        every: 1,
        queue: `q${String(i).padStart(2, '0')}`,
      })),
    ),
  );
  writeFileSync(
    join(schedules, 'gone.json'),
    JSON.stringify(['g1', 'g2', 'g3'].map((id) => ({ id, function: 'app.tasks.run', every: 1, queue: 'gone' }))),
  );
  const socket = join(dir.path, 'm.sock');
  const cfg = join(dir.path, 'm.toml');
  writeFileSync(cfg, `[redis]\nurl = "${server.url}"\n[files]\ndir = "schedules"\n[daemon]\nsocket = "${socket}"\n`);
  const d = await startDaemon(['--config', cfg, '--http', '127.0.0.1:0'], { socket });
  daemons.push(d);
  const base = `http://${String((await d.waitForLog((l) => l.msg === 'http listener started')).http)}`;
  const scrape = async () => parsePrometheusText(await (await fetch(`${base}/metrics`)).text());

  // Every schedule fires each second: wait until fires on many queues were counted.
  const m = await eventually(
    async () => {
      const x = await scrape();
      return x.sum('pyrq_occurrences_total', { outcome: 'enqueued' }) >= 52 && queuesOf(x).has('gone') ? x : undefined;
    },
    'fires counted on the queues, "gone" among them',
    30_000,
    250,
  );
  // The bound holds from the first fires (before the registry was counted) on.
  expect(queuesOf(m).size).toBeLessThanOrEqual(MAX_QUEUE_LABELS + 1);
  const later = await eventually(
    async () => {
      const x = await scrape();
      return queuesOf(x).has('other') ? x : undefined;
    },
    'fires beyond the bound counted as queue="other"',
    30_000,
    250,
  );
  expect(queuesOf(later).size).toBeLessThanOrEqual(MAX_QUEUE_LABELS + 1);

  rmSync(join(schedules, 'gone.json'));
  // A recount comes at most every 15 s after a change; the series goes at the scrape after it.
  await eventually(
    async () => !queuesOf(await scrape()).has('gone'),
    'the series of the deleted queue "gone" removed from /metrics',
    45_000,
    500,
  );
});
