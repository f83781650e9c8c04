/**
 * Micro-bench of a parse thread's work (not part of `npm run bench`): the CPU of
 * `parseFileResult` + `packFileResult` (parse, validate, normalise, canonical JSON, spec
 * hash, next fire time, packing) over N schedules of the bench's standard mix in files of
 * 100, JSON/YAML/TOML in turn, on this thread, in memory (no disk, no Redis, no threads).
 * The first round is cold (JIT, memos empty), as in a worker; the later ones are warm.
 *
 *   node dist/bench/parse-cpu-micro.js [--schedules 100000] [--rounds 3]
 *
 * CPU time (process.cpuUsage) moves less than wall time on a shared machine; alternate
 * builds run for run when comparing.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CONTEXT } from '../src/model/normalize.js';
import { packFileResult, parseFileResult } from '../sources/files/parse-result.js';
import { FORMATS, fileText, makeSchedules } from './data.js';

const { values } = parseArgs({
  options: { schedules: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } },
});
const n = Number(values.schedules);
const schedules = makeSchedules(n);
const files: [string, Buffer][] = [];
for (let i = 0, f = 0; i < n; i += 100, f++) {
  const format = FORMATS[f % FORMATS.length]!;
  files.push([`team/f${f}.${format}`, Buffer.from(fileText(format, schedules.slice(i, i + 100)))]);
}
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const now = Date.now();
for (let round = 1; round <= Number(values.rounds); round++) {
  const t = cpuMs();
  let parsed = 0;
  for (const [name, bytes] of files)
    parsed += packFileResult(parseFileResult('files', name, bytes, DEFAULT_CONTEXT, now)).ids.length;
  console.log(`round ${round}: ${parsed} schedules, ${(cpuMs() - t).toFixed(0)} ms of CPU`);
}
