import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../reconcilers/dispatcher.js';
import { DispatcherThread } from '../../reconcilers/dispatcher-thread.js';
import type { FireSummary } from '../../src/dispatch/fire-summary.js';

// The main thread's side of the dispatcher thread, with stand-in worker scripts: the
// messages it acts on, and what it does when the thread cannot run.
type Line = Record<string, unknown>;

function harness(code: string) {
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  const calls: string[] = [];
  const summaries: FireSummary[] = [];
  const ticks: number[] = [];
  const fallback = {
    start: async () => void calls.push('fallback start'),
    stop: async () => void calls.push('fallback stop'),
    collectGarbageWhenIdle: () => void calls.push('fallback gc'),
  } as unknown as Dispatcher;
  const thread = new DispatcherThread({
    script: { code },
    data: { config: {} as never, level: 'debug', connectionName: 'test' },
    logger,
    fence: { token: () => 'holder-1', refused: () => void calls.push('refused') },
    observer: { observeFireSummary: (s) => void summaries.push(s), observeTick: (ms) => void ticks.push(ms) },
    inThread: () => {
      calls.push('fallback built');
      return fallback;
    },
  });
  return { thread, lines, calls, summaries, ticks };
}

/** A stand-in thread: answers start and stop, and on start reports a fence refusal, a tick's fires and a log line. */
const ANSWERING = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.type === 'start') {
    parentPort.postMessage({ type: 'fenced' });
    parentPort.postMessage({ type: 'fires', summary: { conflicts: { not_due: 2 }, occurrences: [['q', 'enqueued', '', 3]], lateness: [0.01], fired: true, countsChanged: false }, tickMs: 12 });
    parentPort.postMessage({ type: 'log', line: JSON.stringify({ level: 30, time: 1, pid: 1, msg: 'job enqueued', token: m.token }) + '\\n' });
  }
  if (m.seq !== undefined) parentPort.postMessage({ type: 'reply', seq: m.seq });
});
`;

describe('DispatcherThread', () => {
  it('starts the thread with the lease token and passes on its refusals, fires and log lines', async () => {
    const h = harness(ANSWERING);
    await h.thread.start();
    expect(h.thread.threadId).toBeGreaterThan(0);
    await h.thread.stop();
    expect(h.calls).toEqual(['refused']);
    expect(h.summaries).toHaveLength(1);
    expect(h.summaries[0]!.occurrences).toEqual([['q', 'enqueued', '', 3]]);
    expect(h.ticks).toEqual([12]);
    // Relayed through the daemon's logger.
    expect(h.lines).toContainEqual(expect.objectContaining({ msg: 'job enqueued', level: 30 }));
    await h.thread.close();
    expect(h.thread.threadId).toBeUndefined();
  });

  it('runs the dispatcher on the main thread, started, when the thread dies', async () => {
    const h = harness(`require('node:worker_threads').parentPort.on('message', () => process.exit(3));`);
    await h.thread.start();
    expect(h.calls).toEqual(['fallback built', 'fallback start']);
    expect(h.lines).toContainEqual(
      expect.objectContaining({ level: 50, msg: expect.stringContaining('dispatcher thread failed') }),
    );
    await h.thread.stop();
    expect(h.calls.at(-1)).toBe('fallback stop');
    await h.thread.close();
  });

  it('runs the dispatcher on the main thread when the thread cannot start', async () => {
    const h = harness(`throw new Error('boom');`);
    await h.thread.start();
    expect(h.calls).toEqual(['fallback built', 'fallback start']);
    const err = h.lines.find((l) => l.level === 50)!;
    expect(JSON.stringify(err)).toContain('boom');
    await h.thread.close();
  });

  it('does not start the fallback when the thread dies while stopped', async () => {
    const h = harness(`
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => { parentPort.postMessage({ type: 'reply', seq: m.seq }); if (m.type === 'stop') setTimeout(() => process.exit(1), 10); });
`);
    await h.thread.start();
    await h.thread.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.calls).toEqual(['fallback built']);
    await h.thread.start();
    expect(h.calls).toEqual(['fallback built', 'fallback start']);
    await h.thread.close();
  });
});
