// Preloaded into a child (node --import <this file>, or NODE_OPTIONS=--import=...): at
// exit, appends the process's own peak resident set size in KiB to $PYRQ_MAX_RSS_FILE, so
// a test or the bench can read a command's memory without /usr/bin/time. Only the main
// thread writes (the preload runs in parse workers too; the figure is the process's).
//
// The peak is VmHWM from /proc/self/status (Linux): the high-water mark of this process's
// own address space. process.resourceUsage().maxRSS (getrusage ru_maxrss) is not: Linux
// carries the parent's peak over into it at fork and exec, so a 39 MB child spawned by a
// 444 MB parent reported 406 MB.
//
// $PYRQ_MAX_RSS_RUSAGE_FILE (for this release only, so the bench can show how far off
// the earlier figures were): the old, wrong figure, ru_maxrss, appended there.
//
// $PYRQ_CPU_FILE: the process's CPU time (user + system, every thread: parse workers
// included), in µs, appended there at exit (the bench's floor of a cold apply).
import { appendFileSync, readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const out = process.env.PYRQ_MAX_RSS_FILE;
const rusageOut = process.env.PYRQ_MAX_RSS_RUSAGE_FILE;
const cpuOut = process.env.PYRQ_CPU_FILE;

/** VmHWM in KiB, or NaN where /proc is not there (the caller's figure then says so). */
function peakKib() {
  try {
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

if (isMainThread && (out || rusageOut || cpuOut)) {
  process.on('exit', () => {
    if (cpuOut) {
      const { user, system } = process.cpuUsage();
      appendFileSync(cpuOut, `${user + system}\n`);
    }
    if (out) appendFileSync(out, `${peakKib()}\n`);
    if (rusageOut) appendFileSync(rusageOut, `${process.resourceUsage().maxRSS}\n`);
  });
}
