// Preloaded into a child (node --import <this file>, or NODE_OPTIONS=--import=...): at
// exit, appends the process's peak resident set size in KiB to $PYRQ_MAX_RSS_FILE, so a
// test or the bench can read a command's memory without /usr/bin/time. Only the main
// thread writes (the preload runs in parse workers too; the figure is the process's).
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const out = process.env.PYRQ_MAX_RSS_FILE;
if (out && isMainThread) process.on('exit', () => appendFileSync(out, `${process.resourceUsage().maxRSS}\n`));
