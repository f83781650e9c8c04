import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import { PyrqError } from '../../src/errors.js';
import { normalizeContext } from '../../src/config/normalize-context.js';
import { issueText } from '../../src/model/issues.js';
import { normalizeSchedule } from '../../src/model/normalize.js';
import { parseScheduleFile } from '../../sources/files/parse-file.js';
import { BaseCommand } from '../base-command.js';
import { askDaemon } from '../daemon-client.js';
import { ignoredRedisFlags, socketFlags } from '../flags.js';
import { exitCodes } from '../help.js';

interface PushResult {
  pushed: { id: string; action: string }[];
}

export default class Push extends BaseCommand<typeof Push> {
  static override summary = 'Upsert the schedules in a file into the running daemon, over its socket.';
  static override description = `Reads a schedule file (JSON, TOML or YAML, any of the shapes a schedules directory accepts) and sends its schedules to the daemon in one "upsert", all or nothing: if any schedule is invalid, claims an id owned by another source, or aims a one-shot at the past, nothing is pushed and every problem is reported. Pushed schedules belong to the "socket" source and are persisted in Redis, so they survive daemon restarts. An id owned by another source (a file, the database) is refused.

${exitCodes({ 0: 'every schedule pushed', 1: 'the file could not be read or a schedule was refused (then none was pushed), no daemon answered, or a setting is invalid' })}`;

  static override examples = [
    { description: 'Push one file', command: '<%= config.bin %> push adhoc/backfill.yaml' },
    {
      description: 'Push to a daemon on another socket',
      command: '<%= config.bin %> push job.json --socket /tmp/pyrq.sock --json',
    },
  ];

  static override args = { file: Args.string({ description: 'Schedule file.', required: true }) };
  static override flags = { ...socketFlags, ...ignoredRedisFlags };

  async run(): Promise<PushResult> {
    const cfg = this.loadSettings();
    const { args } = await this.parse(Push);
    let bytes: Buffer;
    try {
      bytes = readFileSync(args.file);
    } catch (e) {
      throw new PyrqError(
        'VALIDATION_FAILED',
        `${args.file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const parsed = parseScheduleFile(args.file, bytes);
    if (!parsed.ok) throw new PyrqError('VALIDATION_FAILED', `${args.file}: ${parsed.message}`);
    // All or nothing, as the file source treats a file: every schedule is validated here
    // first (each problem reported at its place in the file), then the daemon stores
    // them in one request that it refuses whole if any id is owned elsewhere.
    const ctx = normalizeContext(cfg);
    const problems: string[] = [];
    for (const { raw, locator } of parsed.entries) {
      const r = normalizeSchedule(raw, ctx);
      if (!r.ok)
        problems.push(
          `${args.file}${locator ? `: ${locator}` : ''}${r.id !== undefined ? ` (id ${JSON.stringify(r.id)})` : ''}: ${r.issues.map(issueText).join('; ')}`,
        );
    }
    if (problems.length > 0) throw new PyrqError('VALIDATION_FAILED', `nothing pushed:\n${problems.join('\n')}`);
    let pushed: PushResult['pushed'];
    try {
      const r = (await askDaemon(cfg.daemon.socket, { op: 'upsert', schedules: parsed.entries.map((e) => e.raw) })) as {
        pushed: { id: string; action: string }[];
      };
      pushed = r.pushed.map((p) => ({ id: p.id, action: p.action }));
    } catch (e) {
      if (e instanceof PyrqError && (e.code === 'DAEMON_ERROR' || e.code === 'VALIDATION_FAILED'))
        throw new PyrqError('VALIDATION_FAILED', `${args.file}: ${e.message}`);
      throw e;
    }
    if (!this.jsonEnabled())
      for (const r of pushed)
        this.log(`${r.action === 'unchanged' ? '=' : r.action === 'create' ? '+' : '~'} ${r.id} (${r.action})`);
    return { pushed };
  }
}
