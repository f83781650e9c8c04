/**
 * The dispatcher thread (worker_threads): runs the daemon's Dispatcher in a V8 isolate of
 * its own, with its own Redis connections and its own logger, so that nothing on the main
 * thread (a reconcile of a file storm, a full collection of its large heap, parse results,
 * file-watch events, socket and HTTP requests) can delay a fire. See dispatcher-thread.ts
 * for the main thread's side and the messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../src/clock.js';
import type { Config } from '../src/config/config.js';
import { emptyFireSummary, type FireSummary, mergeFireSummary, summarizeFires } from '../src/dispatch/fire-summary.js';
import { createLogger, type LogOptions } from '../src/log.js';
import { createRedis } from '../src/redis/connect.js';
import { Keys } from '../src/redis/keys.js';
import { Dispatcher } from './dispatcher.js';

export interface DispatcherWorkerData {
  config: Pick<Config, 'redis' | 'dispatch' | 'frappe'>;
  /** The daemon's log options: this thread writes to the same destination itself. */
  log?: LogOptions;
  /** Without `log`: the level of the main thread's logger, to which each line is relayed. */
  level: string;
  /** bin/bundle-loader.js's paths for pino's transport (`--pretty` from the bundle). */
  bundlerPaths?: Record<string, string>;
  connectionName: string;
}

/** From the main thread. */
export type ToWorker =
  | { type: 'start'; seq: number; token: string | undefined }
  | { type: 'stop'; seq: number }
  | { type: 'close'; seq: number }
  | { type: 'gc' }
  | { type: 'reopen' };

/** To the main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'reply'; seq: number; error?: string }
  | { type: 'fenced' }
  | { type: 'fires'; summary: FireSummary; tickMs?: number }
  | { type: 'log'; line: string };

const data = workerData as DispatcherWorkerData;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

if (data.bundlerPaths)
  (globalThis as { __bundlerPathsOverrides?: unknown }).__bundlerPathsOverrides = data.bundlerPaths;
const logger = createLogger(
  data.log ?? { level: data.level, stream: { write: (line: string) => post({ type: 'log', line }) } },
);

const redis = createRedis(data.config.redis, { persistent: true, connectionName: data.connectionName });
redis.on('error', () => undefined); // the main thread's connection logs Redis errors
redis.connect().catch(() => {}); // keeps retrying in the background

let token: string | undefined;
/** A tick's rounds, sent to the main thread's metrics as one message at the end of the tick. */
let pending: { summary: FireSummary; tickMs?: number } | undefined;
const flush = () => {
  if (pending) post({ type: 'fires', ...pending });
  pending = undefined;
};
const dispatcher = new Dispatcher({
  redis,
  keys: new Keys(data.config.redis.prefix),
  clock: systemClock,
  logger,
  config: data.config,
  fence: { token: () => token, refused: () => post({ type: 'fenced' }) },
  observer: {
    // The dispatcher tells every round and then the tick in one synchronous stretch.
    observeFires(items, outcomes, sentAt) {
      const s = summarizeFires(items, outcomes, sentAt);
      if (pending) mergeFireSummary(pending.summary, s);
      else {
        pending = { summary: mergeFireSummary(emptyFireSummary(), s) };
        queueMicrotask(flush);
      }
    },
    observeTick(durationMs) {
      if (!pending) {
        pending = { summary: emptyFireSummary() };
        queueMicrotask(flush);
      }
      pending.tickMs = durationMs;
    },
  },
  redisClock: true,
});

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'gc':
      dispatcher.collectGarbageWhenIdle();
      return;
    case 'reopen':
      // A worker gets no signals: the main thread passes SIGUSR2 on (createLogger listens for it).
      process.emit('SIGUSR2' as never);
      return;
  }
  let error: string | undefined;
  try {
    if (m.type === 'start') {
      token = m.token;
      await dispatcher.start();
    } else {
      await dispatcher.stop();
      if (m.type === 'close') {
        redis.disconnect();
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      }
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  post({ type: 'reply', seq: m.seq, ...(error !== undefined ? { error } : {}) });
}

port.on('message', (m: ToWorker) => void handle(m));
post({ type: 'ready' });
