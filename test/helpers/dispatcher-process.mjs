// Runs one dispatcher loop (the built code in dist/, as the daemon runs it) against a
// Redis for a number of seconds, then prints what it did as one JSON line. Used by the
// race test to put two dispatchers in separate processes on one Redis.
//
// Usage: node dispatcher-process.mjs <redis-url> <seconds>
import { existsSync } from 'node:fs';

const dist = new URL('../../dist/src/', import.meta.url);
if (!existsSync(new URL('../reconcilers/dispatcher.js', dist))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const [url, seconds] = process.argv.slice(2);
const { Redis } = await import('ioredis');
const { Dispatcher } = await import(new URL('../reconcilers/dispatcher.js', dist).href);
const { Keys } = await import(new URL('redis/keys.js', dist).href);
const { systemClock } = await import(new URL('clock.js', dist).href);

const redis = new Redis(url);
let enqueued = 0;
let ticks = 0;
let notDue = 0;
const logger = {
  info(obj, msg) {
    if (msg !== 'fired') return;
    ticks++;
    enqueued += obj.enqueued;
  },
  warn() {},
  error(obj, msg) {
    console.error(msg, JSON.stringify(obj));
  },
  debug() {},
  child() {
    return logger;
  },
};
const dispatcher = new Dispatcher({
  redis,
  keys: new Keys(),
  clock: systemClock,
  logger,
  config: {
    dispatch: { catchup: 'latest', overlap: 'allow', historyLength: 50, batchSize: 500 },
    frappe: { user: 'Administrator' },
  },
});
// Count the items this process lost the race for, from its own ticks.
const tick = dispatcher.tickOnce.bind(dispatcher);
dispatcher.tickOnce = async (now) => {
  const r = await tick(now);
  notDue += r.schedules.filter((s) => s.result === 'not-due').length;
  return r;
};
await dispatcher.start();
await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
await dispatcher.stop();
redis.disconnect();
console.log(JSON.stringify({ pid: process.pid, ticks, enqueued, notDue }));
