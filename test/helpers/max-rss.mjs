// Preloaded into a child (NODE_OPTIONS=--import=<this file>): at exit, append the process's
// peak resident set size in KiB to $PYRQ_TEST_MAX_RSS_FILE, so a test can check that a
// command's memory stayed bounded without timing anything or needing /usr/bin/time.
import { appendFileSync } from 'node:fs';

const out = process.env.PYRQ_TEST_MAX_RSS_FILE;
if (out) process.on('exit', () => appendFileSync(out, `${process.resourceUsage().maxRSS}\n`));
