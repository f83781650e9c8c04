/**
 * Every configured source, read as `pyrq diff` reads it: readable (a stale source
 * fails: the daemon keeps its last good schedules and deletes nothing, but sees no
 * edit), how many schedules, errors in some of them, and the daemon's last own reading
 * of it when it recorded one.
 */
import type { SourceStatus } from '../registry/registry-port.js';
import { formatSourceError } from '../source.js';
import type { CheckResult, DoctorCheck, SourceRead } from './check.js';

const label = (s: SourceRead) => `source ${s.name}${s.location ? ` (${s.location})` : ''}`;

/** The findings for one source read now, and what the daemon last recorded for it. Pure. */
export function sourceResults(s: SourceRead, recorded: SourceStatus | undefined, now: number): CheckResult[] {
  const check = `source ${s.name}`;
  if (s.error !== undefined)
    return [
      { check, status: 'fail', message: `${label(s)} cannot be set up: ${s.error}`, fix: 'fix the setting named' },
    ];
  const snap = s.snapshot!;
  const first = snap.errors[0] ? formatSourceError(snap.errors[0]) : undefined;
  const out: CheckResult[] = [];
  if (snap.stale) {
    out.push({
      check,
      status: 'fail',
      message: `${label(s)} cannot be read: ${first ?? 'no reason given'}`,
      fix: `make it readable (server up, credentials, permissions); until then the daemon keeps its last good schedules and sees no edit`,
    });
  } else if (snap.errors.length > 0) {
    out.push({
      check,
      status: 'warn',
      message: `${label(s)}: ${snap.schedules.length} schedule(s) read, ${snap.errors.length} error(s); the first: ${first}`,
      fix: `fix the input named; pyrq validate lists every error (what fails to read is kept as it was)`,
    });
  } else {
    out.push({ check, status: 'ok', message: `${label(s)}: ${snap.schedules.length} schedule(s), no errors` });
  }
  if (recorded?.stale && !recorded.by) {
    const ago = Math.max(0, Math.round((now - recorded.at) / 1000));
    out.push({
      check,
      status: 'warn',
      message: `the daemon could not read source ${s.name} when it last tried (${ago} s ago): ${recorded.errors[0] ?? 'no reason given'}`,
      fix: 'see the daemon log; it retries with backoff and applies what changed once the source is back',
    });
  }
  return out;
}

export const sourcesCheck: DoctorCheck = {
  name: 'sources',
  needsRedis: false,
  async run(ctx) {
    if (ctx.sources.length === 0)
      return [
        {
          check: 'sources',
          status: 'warn',
          message: 'no source is configured here (only schedules pushed over the socket would exist)',
          fix: 'pass --dir PATH, --mysql-url URL or --postgres-url URL, or the --config file the daemon uses',
        },
      ];
    const recorded = ctx.registry ? await ctx.registry.readSourceStatus() : [];
    return ctx.sources.flatMap((s) =>
      sourceResults(
        s,
        recorded.find((r) => r.source === s.name),
        ctx.now,
      ),
    );
  },
};
