// Preloaded into the `pyrq` commands the bench runs (node --import): at exit, writes the
// process's peak resident set size in KiB to $PYRQ_BENCH_MAX_RSS_FILE.
import { writeFileSync } from 'node:fs';

const out = process.env.PYRQ_BENCH_MAX_RSS_FILE;
if (out) process.on('exit', () => writeFileSync(out, `${process.resourceUsage().maxRSS}\n`));
